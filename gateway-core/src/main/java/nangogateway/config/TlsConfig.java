package nangogateway.config;

import java.nio.file.Path;
import java.util.Objects;

/** PEM certificate chain and private key for a TLS listener. */
public record TlsConfig(Path cert, Path key) {
    public TlsConfig {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }
}
