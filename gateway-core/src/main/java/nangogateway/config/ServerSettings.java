package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Process-wide settings (the optional top-level {@code server:} block).
 *
 * @param shutdownTimeout          how long SIGTERM waits for in-flight requests before closing what is left
 * @param certificateCheckInterval how often TLS files are looked at for a renewal
 */
public record ServerSettings(Duration shutdownTimeout, Duration certificateCheckInterval) {
    public static final ServerSettings DEFAULTS = new ServerSettings(Duration.ofSeconds(30), Duration.ofSeconds(5));

    public ServerSettings {
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(certificateCheckInterval, "certificateCheckInterval");
    }

    public ServerSettings(Duration shutdownTimeout) {
        this(shutdownTimeout, DEFAULTS.certificateCheckInterval());
    }
}
