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
 * @param aim     for a traversal: the private path it starts from and the allowed route it climbs to; else null
 */
public record ProbeCase(ProbeKind kind, String name, Function<String, String> request, Rule rule, Aim aim) {
    /**
     * A private-first traversal: a front end that resolves dot segments (decoding first) sees the allowed
     * {@code anchorMethod anchorPath} and may pass the raw target on, where Nango's router sees the private path.
     *
     * @param baseline the same request aimed at the allowed route plainly: its answer is what "the front end
     *                 resolved the target to the allowed route" looks like
     */
    public record Aim(String privatePath, String anchorMethod, String anchorPath, Function<String, String> baseline) {
    }

    public ProbeCase(ProbeKind kind, String name, Function<String, String> request, Rule rule) {
        this(kind, name, request, rule, null);
    }

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

    /** The method and target as sent: the first two space-separated words of the request. */
    public String methodAndTarget(String authority) {
        String raw = raw(authority);
        int end = raw.indexOf("\r\n");
        String line = end < 0 ? raw : raw.substring(0, end);
        int second = line.indexOf(' ', line.indexOf(' ') + 1);
        return second < 0 ? line : line.substring(0, second);
    }

    /**
     * What to show of the request: the request line for path cases; for framing and header cases the whole
     * request, escaped, without the Host and User-Agent lines every case shares (so the framing headers, line
     * endings and body that make the case show), long runs of one character shortened.
     */
    public String shown(String authority) {
        if (kind == ProbeKind.BYPASS || kind == ProbeKind.PRIVATE) {
            return requestLine(authority);
        }
        String raw = raw(authority).replace(ProbeCatalog.head(authority), "");
        return Printable.compact(raw, 240);
    }

    /** Whether the answer must also close the connection, so the reader has to watch for that. */
    public boolean framingAttack() {
        return rule != Rule.REFUSE;
    }

    public Verdict judge(Exchange seen) {
        return judge(seen, null, "");
    }

    /**
     * @param baseline the answer to {@link Aim#baseline()}, or null
     * @param authority the {@code Host} the request named, to find its target in an answer that echoes it
     */
    public Verdict judge(Exchange seen, Exchange.Answered baseline, String authority) {
        if (seen instanceof Exchange.Answered a) {
            String target = authority.isEmpty() ? "" : methodAndTarget(authority);
            target = target.substring(target.indexOf(' ') + 1);
            return judgeStatus(a, Reached.read(this, a, aim == null ? null : baseline, target));
        }
        if (seen instanceof Exchange.Dropped d) {
            return Verdict.refused("closed without an answer (" + d.how() + ")");
        }
        if (seen instanceof Exchange.Silent s) {
            // A request that hangs may be waiting in Nango, or be a half-read body that desynchronises: fail closed.
            return Verdict.undecided(s.how(), "the request may be waiting upstream");
        }
        if (seen instanceof Exchange.Garbled g) {
            return Verdict.finding("not HTTP/1.x", g.how());
        }
        return Verdict.undecided(((Exchange.Unreachable) seen).how(), "the request could not be sent");
    }

    private Verdict judgeStatus(Exchange.Answered a, Reached reached) {
        int status = a.status();
        String seen = status + (a.mediaType().isEmpty() ? "" : " " + a.mediaType());
        if (status == 429) {
            return Verdict.undecided(seen, "rate limited: lower --rate");
        }
        if (framingAttack()) {
            if (rule == Rule.REFUSE_BODY_AND_CLOSE && (status == 502 || status == 504)) {
                return Verdict.undecided(seen, "the valid head was passed on and Nango did not answer (is it down?); "
                        + "a gateway that judges the body answers 400 once Nango is up: probe again then");
            }
            if (!FRAMING_REFUSALS.contains(status) || reached.where().privateNango()) {
                return Verdict.finding(seen, meaning(a, reached));
            }
            return a.closed() ? Verdict.refused(seen + ", closed")
                    : Verdict.finding(seen + ", kept open",
                            "refused but the connection stayed open: the bytes were parsed as a message, "
                                    + "what follows them may be read as another");
        }
        if (reached.where() == Reached.Where.PUBLIC_ROUTE && status != 101) {
            return Verdict.resolved(seen, reached.describe());
        }
        if (REFUSALS.contains(status) && !reached.where().privateNango()) {
            return Verdict.refused(seen);
        }
        return Verdict.finding(seen, meaning(a, reached));
    }

    /** What was reached when the answer tells (a Nango API error, the dashboard), else what the status means. */
    private static String meaning(Exchange.Answered a, Reached reached) {
        if (reached.where().privateNango()) {
            return reached.describe();
        }
        String plain = meaning(a);
        boolean nothingMore = reached.where() == Reached.Where.UPSTREAM_FAILURE
                || reached.where() == Reached.Where.UNKNOWN && a.body().isEmpty() && a.mediaType().isEmpty();
        return nothingMore ? plain : plain + "; " + reached.describe();
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
