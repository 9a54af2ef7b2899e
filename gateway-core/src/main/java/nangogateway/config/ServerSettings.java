package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Process-wide settings (the optional top-level {@code server:} block).
 *
 * @param shutdownTimeout          how long SIGTERM waits for in-flight requests before closing what is left
 * @param certificateCheckInterval how often TLS files are looked at for a renewal
 * @param bufferMemory             bytes all buffered request bodies together may hold in memory
 * @param requestBufferMemory      bytes one buffered request body holds in memory before the rest goes to a file
 * @param responseBufferMemory     bytes of one response the gateway holds in memory ahead of a slow client, beyond
 *                                 what its socket takes, before the rest goes to a file
 * @param bufferDisk               bytes all buffered bodies (requests and responses) together may hold in
 *                                 temporary files
 * @param tempDir                  where buffered bodies beyond memory go; empty: the JVM's {@code java.io.tmpdir}
 */
public record ServerSettings(Duration shutdownTimeout, Duration certificateCheckInterval, long bufferMemory,
        long requestBufferMemory, long responseBufferMemory, long bufferDisk, String tempDir) {
    public static final long DEFAULT_BUFFER_MEMORY = 64L << 20;
    public static final long DEFAULT_REQUEST_BUFFER_MEMORY = 128L << 10;
    public static final long DEFAULT_RESPONSE_BUFFER_MEMORY = 256L << 10;
    public static final long DEFAULT_BUFFER_DISK = 1L << 30;
    public static final ServerSettings DEFAULTS = new ServerSettings(Duration.ofSeconds(30), Duration.ofSeconds(5));

    public ServerSettings {
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(certificateCheckInterval, "certificateCheckInterval");
        Objects.requireNonNull(tempDir, "tempDir");
    }

    public ServerSettings(Duration shutdownTimeout, Duration certificateCheckInterval) {
        this(shutdownTimeout, certificateCheckInterval, DEFAULT_BUFFER_MEMORY, DEFAULT_REQUEST_BUFFER_MEMORY,
                DEFAULT_RESPONSE_BUFFER_MEMORY, DEFAULT_BUFFER_DISK, "");
    }

    public ServerSettings(Duration shutdownTimeout) {
        this(shutdownTimeout, DEFAULTS.certificateCheckInterval());
    }

    /** The directory buffered bodies spill to. */
    public java.nio.file.Path tempPath() {
        return java.nio.file.Path.of(tempDir.isEmpty() ? System.getProperty("java.io.tmpdir") : tempDir);
    }
}
