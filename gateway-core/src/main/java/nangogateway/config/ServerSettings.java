package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Process-wide settings (the optional top-level {@code server:} block).
 *
 * @param shutdownTimeout how long SIGTERM waits for in-flight requests before closing what is left
 */
public record ServerSettings(Duration shutdownTimeout) {
    public static final ServerSettings DEFAULTS = new ServerSettings(Duration.ofSeconds(30));

    public ServerSettings {
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    }
}
