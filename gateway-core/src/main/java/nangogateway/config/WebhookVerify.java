package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A webhook signature check on a proxied route ({@code verify:}). The secret is read from a file when the config
 * is loaded (so systemd's {@code LoadCredential=} works and a reload re-reads it); it is never written in the YAML.
 *
 * @param kind       slack, github, or a generic hmac
 * @param secret     the signing secret's bytes (file content without a trailing newline)
 * @param secretFile where the secret came from, for messages
 * @param header     the signature header (hmac; fixed for slack and github)
 * @param algorithm  HmacSHA256 or HmacSHA512
 * @param encoding   how the signature is written: hex or base64
 * @param prefix     text before the signature in the header (e.g. {@code sha256=}), may be empty
 * @param tolerance  how old a Slack request timestamp may be
 */
public record WebhookVerify(Kind kind, byte[] secret, String secretFile, String header, String algorithm,
        Encoding encoding, String prefix, Duration tolerance) {

    public enum Kind { SLACK, GITHUB, HMAC }

    public enum Encoding { HEX, BASE64 }

    public WebhookVerify {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(tolerance, "tolerance");
    }

    public static WebhookVerify slack(byte[] secret, String file, Duration tolerance) {
        return new WebhookVerify(Kind.SLACK, secret, file, "X-Slack-Signature", "HmacSHA256", Encoding.HEX, "v0=",
                tolerance);
    }

    public static WebhookVerify github(byte[] secret, String file) {
        return new WebhookVerify(Kind.GITHUB, secret, file, "X-Hub-Signature-256", "HmacSHA256", Encoding.HEX,
                "sha256=", Duration.ZERO);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebhookVerify w && w.kind == kind && java.util.Arrays.equals(w.secret, secret)
                && w.header.equalsIgnoreCase(header) && w.algorithm.equals(algorithm) && w.encoding == encoding
                && w.prefix.equals(prefix) && w.tolerance.equals(tolerance);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, header.toLowerCase(java.util.Locale.ROOT), algorithm, encoding, prefix, tolerance);
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "verify " + kind.name().toLowerCase(java.util.Locale.ROOT) + " (" + header + ", secret from "
                + secretFile + ")";
    }
}
