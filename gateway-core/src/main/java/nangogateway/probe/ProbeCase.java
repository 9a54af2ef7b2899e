package nangogateway.probe;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Function;

/**
 * One probe request and the rule for judging its answer.
 *
 * <p>From outside, a refusal cannot be told from Nango's own answer by the status alone, so the cases are chosen
 * such that Nango itself would answer them with 2xx, 3xx, 401 or 5xx: then only a front end that stops the
 * request produces one of the refusal statuses. A 502 or 504 means the front end tried to reach Nango, so it is
 * a finding, never a refusal.
 *
 * @param request the raw request (ISO-8859-1 characters = bytes) given the {@code host[:port]} to name
 * @param rule    how the answer is judged
 */
public record ProbeCase(ProbeKind kind, String name, Function<String, String> request, Rule rule) {
    public enum Rule {
        /** A refusal status, or the connection dropped without an answer. */
        REFUSE,
        /**
         * The framing is ambiguous: besides a refusal status the server must close the connection, since a server
         * that keeps it open has parsed the bytes as some message and may read what follows as another.
         */
        REFUSE_AND_CLOSE,
        /**
         * As {@link #REFUSE_AND_CLOSE}, but the head is valid and on an allowed route, only the body is malformed:
         * a streaming gateway has already passed the head on when the body fails, so a 502 or 504 here means Nango
         * did not answer the head, not that the body got through.
         */
        REFUSE_BODY_AND_CLOSE
    }

    /** Statuses a front end answers itself when it turns a request away. */
    static final Set<Integer> REFUSALS = Set.of(400, 403, 404, 405, 413, 414, 431);
    /** For framing attacks also: unknown transfer coding (501) and unsupported version (505). */
    static final Set<Integer> FRAMING_REFUSALS = Set.of(400, 403, 404, 405, 413, 414, 431, 501, 505);

    public String raw(String authority) {
        return request.apply(authority);
    }

    public byte[] bytes(String authority) {
        return raw(authority).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The request line (or the first 120 characters of it), printable. */
    public String requestLine(String authority) {
        String raw = raw(authority);
        int end = raw.indexOf("\r\n");
        return Printable.show(end < 0 ? raw : raw.substring(0, end), 120);
    }

    /** Whether the answer must also close the connection, so the reader has to watch for that. */
    public boolean framingAttack() {
        return rule != Rule.REFUSE;
    }

    public Verdict judge(Exchange seen) {
        if (seen instanceof Exchange.Answered a) {
            return judgeStatus(a);
        }
        if (seen instanceof Exchange.Dropped d) {
            return Verdict.refused("closed without an answer (" + d.how() + ")");
        }
        if (seen instanceof Exchange.Silent s) {
            // A request that hangs may be waiting in Nango, or be a half-read body that desynchronises: fail closed.
            return Verdict.undecided(s.how(), "the request may be waiting upstream");
        }
        if (seen instanceof Exchange.Garbled g) {
            return Verdict.finding(g.how(), "the answer is not HTTP/1.x");
        }
        return Verdict.undecided(((Exchange.Unreachable) seen).how(), "the request could not be sent");
    }

    private Verdict judgeStatus(Exchange.Answered a) {
        int status = a.status();
        String seen = Integer.toString(status);
        if (status == 429) {
            return Verdict.undecided(seen, "rate limited: lower --rate");
        }
        if (framingAttack()) {
            if (rule == Rule.REFUSE_BODY_AND_CLOSE && (status == 502 || status == 504)) {
                return Verdict.undecided(seen, "the valid head was passed on and Nango did not answer (is it down?); "
                        + "a gateway that judges the body answers 400 once Nango is up: probe again then");
            }
            if (!FRAMING_REFUSALS.contains(status)) {
                return Verdict.finding(seen, meaning(a));
            }
            return a.closed() ? Verdict.refused(seen + ", closed")
                    : Verdict.finding(seen + ", kept open",
                            "refused but the connection stayed open: the bytes were parsed as a message, "
                                    + "what follows them may be read as another");
        }
        return REFUSALS.contains(status) ? Verdict.refused(seen) : Verdict.finding(seen, meaning(a));
    }

    private static String meaning(Exchange.Answered a) {
        int status = a.status();
        if (status == 101) {
            return "a protocol switch was accepted";
        }
        if (status >= 200 && status < 300) {
            return "answered with success: the request was let through";
        }
        if (status >= 300 && status < 400) {
            return "redirected" + (a.location() == null ? "" : " to " + a.location());
        }
        if (status == 502 || status == 504) {
            return "the front end tried to reach its upstream: the request was let through";
        }
        if (status >= 500) {
            return "a server error, not a refusal: the request may have been let through";
        }
        return "not a refusal status: something behind the front end answered";
    }
}
