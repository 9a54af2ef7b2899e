package nangogateway.observe;

/** Reads samples out of the text exposition, as a scraper would see them. */
public final class MetricsText {
    private MetricsText() {
    }

    /**
     * The value of one sample, written as the exposition writes it (labels in name order, values escaped);
     * 0 when the series is absent (it never counted).
     */
    public static double value(GatewayMetrics metrics, String series) {
        return value(metrics.render(), series);
    }

    public static double value(String exposition, String series) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).replace("+Inf", "Infinity"));
            }
        }
        return 0;
    }
}
