package nangogateway.config;

/** One problem in a route file, located at a 1-based line and column. */
public record ConfigError(String file, int line, int column, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
