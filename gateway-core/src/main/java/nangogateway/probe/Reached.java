package nangogateway.probe;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a probe request reached behind the front end, and how sure the probe is, read from the answer: its status,
 * content type and the first bytes of its body. A status alone cannot say it: Nango's dashboard answers any unknown
 * GET with 200 and its HTML page, its API answers 401 JSON without a key, and a refusal status may come from
 * Nango's router as well as from the front end.
 *
 * @param where    what answered
 * @param sureness how sure the reading is
 * @param evidence what in the answer says so, short and printable
 */
public record Reached(Where where, Sureness sureness, String evidence) {
    public enum Where {
        /** Nango's API answered: a handler behind its secret key or dashboard session (or a no-auth one). */
        PRIVATE_API("a private API handler", true),
        /** As {@link #PRIVATE_API}, and the request aimed at the /proxy API (Base-Url-Override is honoured there). */
        PROXY_API("Nango's /proxy API", true),
        /** The dashboard's single-page app: Nango answers it for any GET no route takes. */
        DASHBOARD("the dashboard page", true),
        /** The allowed route the request climbed to: the front end resolved the target before passing it on. */
        PUBLIC_ROUTE("the public route itself", false),
        /** An error page: the front end's own, or Nango's router finding no route. */
        ERROR_PAGE("an error page", false),
        /** The front end tried its upstream and failed (502, 504). */
        UPSTREAM_FAILURE("the front end's upstream, which failed", false),
        /** Something answered that the probe cannot tell. */
        UNKNOWN("something behind the front end", false);

        private final String text;
        private final boolean nango;

        Where(String text, boolean nango) {
            this.text = text;
            this.nango = nango;
        }

        public String text() {
            return text;
        }

        /** A private Nango handler or page answered: whatever the status, the request got through. */
        public boolean privateNango() {
            return nango;
        }
    }

    public enum Sureness {
        CERTAIN, LIKELY, UNCLEAR;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** {@code reached the dashboard page (likely: ...)}: one phrase an operator can act on. */
    public String describe() {
        return "reached " + where.text() + " (" + sureness.label() + ": " + evidence + ")";
    }

    /**
     * Reads one answer.
     *
     * @param probe    the case sent; its aim says where a traversal climbs to and which private path it starts from
     * @param baseline the answer to a plain request for the case's allowed route, or null
     */
    public static Reached read(ProbeCase probe, Exchange.Answered a, Exchange.Answered baseline, String target) {
        String type = a.mediaType();
        String body = a.body();
        String lower = body.toLowerCase(Locale.ROOT);
        int status = a.status();
        if (baseline != null && sameAnswer(a, target, baseline, probe.aim().anchorPath())) {
            return new Reached(Where.PUBLIC_ROUTE, Sureness.LIKELY, "the same answer as a plain "
                    + probe.aim().anchorMethod() + " " + probe.aim().anchorPath() + " (" + baseline.status()
                    + (type.isEmpty() ? "" : " " + type) + "): the front end resolved the target to it");
        }
        boolean json = type.endsWith("json") || (type.isEmpty() && looksLikeJson(body));
        Where api = probe.aim() != null && probe.aim().privatePath().toLowerCase(Locale.ROOT).startsWith("/proxy")
                || probe.name().toLowerCase(Locale.ROOT).contains("/proxy") || probe.kind() == ProbeKind.OVERRIDE
                ? Where.PROXY_API : Where.PRIVATE_API;
        if (json && lower.contains("\"error\"")) {
            if (status == 401 || status == 403) {
                return new Reached(api, Sureness.CERTAIN, "Nango's API refused the credentials with " + status
                        + " " + excerpt(body));
            }
            return new Reached(api, Sureness.LIKELY, "a JSON error " + status + " " + excerpt(body));
        }
        if (json) {
            return new Reached(api, status < 300 ? Sureness.LIKELY : Sureness.UNCLEAR, "a JSON answer " + status
                    + " " + excerpt(body));
        }
        if (status == 502 || status == 504) {
            return new Reached(Where.UPSTREAM_FAILURE, Sureness.CERTAIN, "the front end answered " + status);
        }
        if (type.equals("text/html") || lower.startsWith("<!doctype html") || lower.startsWith("<html")) {
            return readHtml(status, lower);
        }
        if (type.contains("javascript") && lower.contains("_env_")) {
            return new Reached(Where.PRIVATE_API, Sureness.LIKELY, "the dashboard's /env.js settings script");
        }
        return new Reached(Where.UNKNOWN, Sureness.UNCLEAR, "status " + status
                + (type.isEmpty() ? ", no content type" : ", " + type) + (body.isEmpty() ? ", no body" : ", body "
                + excerpt(body)));
    }

    private static Reached readHtml(int status, String lower) {
        if (lower.contains("nango_oauth_callback")) {
            return new Reached(Where.PUBLIC_ROUTE, Sureness.LIKELY, "the OAuth callback's page");
        }
        int markers = (lower.contains("<div id=\"root\"") ? 1 : 0) + (lower.contains("/env.js") ? 1 : 0)
                + (lower.contains("<title>nango</title>") ? 1 : 0);
        if (markers >= 2 && status < 300) {
            return new Reached(Where.DASHBOARD, Sureness.CERTAIN, "HTML " + status
                    + " with the dashboard's app shell (<div id=\"root\">, /env.js)");
        }
        if (markers == 1 && status < 300) {
            return new Reached(Where.DASHBOARD, Sureness.LIKELY, "HTML " + status + " like a single-page app shell");
        }
        if (lower.contains("cannot ") && lower.contains("<pre>")) {
            return new Reached(Where.ERROR_PAGE, Sureness.CERTAIN, "Express's own error page: Nango's router "
                    + "found no route");
        }
        if (lower.contains("<center>nginx")) {
            return new Reached(Where.ERROR_PAGE, Sureness.CERTAIN, "nginx's own error page " + status);
        }
        if (status >= 400) {
            return new Reached(Where.ERROR_PAGE, Sureness.LIKELY, "an HTML error page " + status);
        }
        return new Reached(Where.UNKNOWN, Sureness.UNCLEAR, "an HTML page " + status
                + " that is neither the dashboard nor the OAuth callback's");
    }

    /**
     * The answer a plain request for the allowed route gets: same status, same media type, the same body once each
     * request's own target is taken out of it (some pages echo the path).
     */
    static boolean sameAnswer(Exchange.Answered a, String target, Exchange.Answered baseline, String anchor) {
        return a.status() == baseline.status() && a.mediaType().equals(baseline.mediaType())
                && a.body().replace(target, "").equals(baseline.body().replace(anchor, ""));
    }

    private static boolean looksLikeJson(String body) {
        String t = body.stripLeading();
        return t.startsWith("{") || t.startsWith("[");
    }

    private static final Pattern ERROR_CODE =
            Pattern.compile("\"code\"\\s*:\\s*\"([^\"]{1,60})\"");

    /** A JSON error by its code ({@code error code missing_auth_header}), else the body's start. */
    private static String excerpt(String body) {
        Matcher code = ERROR_CODE.matcher(body);
        if (looksLikeJson(body) && code.find()) {
            return "(error code " + Printable.show(code.group(1), 60) + ")";
        }
        String oneLine = body.strip().replaceAll("\\s+", " ");
        return oneLine.isEmpty() ? "(empty body)" : Printable.show(oneLine, 70);
    }
}
