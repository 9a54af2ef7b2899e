package nangogateway.probe;

/**
 * One judged request: refused, let through (a finding), or without a verdict (no answer, rate limited, or an
 * answer that depends on Nango being up). Only a refusal counts as clean; so does a traversal the front end
 * resolved to the allowed route it climbs to (Nango saw only that route), which says so in {@code why}.
 *
 * @param refused true when the answer shows the request was turned away before it could reach Nango, or reached
 *                only the allowed route
 * @param decided false when the answer does not tell either way; such a request is neither refused nor a finding
 * @param seen    what came back, short ({@code 403}, {@code 400, closed}, {@code no answer in 3s})
 * @param why     unless refused, what the answer means; empty when refused
 */
public record Verdict(boolean refused, boolean decided, String seen, String why) {
    static Verdict refused(String seen) {
        return new Verdict(true, true, seen, "");
    }

    /** The front end resolved a traversal to the allowed route it climbs to: nothing private was reached. */
    static Verdict resolved(String seen, String why) {
        return new Verdict(true, true, seen, why);
    }

    /** Clean because the target was resolved to the allowed route, not because it was refused. */
    public boolean resolvedToAllowedRoute() {
        return refused && !why.isEmpty();
    }

    static Verdict finding(String seen, String why) {
        return new Verdict(false, true, seen, why);
    }

    static Verdict undecided(String seen, String why) {
        return new Verdict(false, false, seen, why);
    }

    /** Let through: the answer shows the request was not refused. */
    public boolean finding() {
        return decided && !refused;
    }
}
