package nangogateway.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * PEM certificate chain and private key for a TLS listener, and whether it offers HTTP/2 to clients (ALPN
 * {@code h2} before {@code http/1.1}). HTTP/2 is a property of the TLS listener: plain-text h2c is never offered.
 */
public record TlsConfig(Path cert, Path key, boolean http2) {
    public TlsConfig {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }

    /** HTTP/2 on, the default. */
    public TlsConfig(Path cert, Path key) {
        this(cert, key, true);
    }
}
