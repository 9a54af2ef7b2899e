package nangogateway.probe;

/**
 * One judged request.
 *
 * @param refused true when the answer shows the request was turned away before it could reach Nango
 * @param seen    what came back, short ({@code 403}, {@code 400, closed}, {@code no answer in 3s})
 * @param why     for a finding, what the answer means; empty when refused
 */
public record Verdict(boolean refused, String seen, String why) {
    static Verdict refused(String seen) {
        return new Verdict(true, seen, "");
    }

    static Verdict finding(String seen, String why) {
        return new Verdict(false, seen, why);
    }
}
