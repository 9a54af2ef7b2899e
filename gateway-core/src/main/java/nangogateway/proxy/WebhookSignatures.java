package nangogateway.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import nangogateway.config.WebhookVerify;

/** Checks a provider's webhook signature over the raw body, in constant time. */
public final class WebhookSignatures {
    private WebhookSignatures() {
    }

    /** Why a request fails its check ({@code missing}, {@code malformed}, {@code stale}, {@code mismatch}), or null. */
    public static String problem(WebhookVerify v, HttpHeaders headers, byte[] body, long nowEpochSeconds) {
        List<String> sigs = headers.getAll(v.header());
        if (sigs.isEmpty()) {
            return "missing";
        }
        if (sigs.size() > 1) {
            return "malformed";
        }
        String sent = sigs.get(0).trim();
        byte[] signed = body;
        if (v.kind() == WebhookVerify.Kind.SLACK) {
            List<String> ts = headers.getAll("X-Slack-Request-Timestamp");
            if (ts.size() != 1 || !ts.get(0).trim().matches("\\d{1,12}")) {
                return ts.isEmpty() ? "missing" : "malformed";
            }
            long t = Long.parseLong(ts.get(0).trim());
            if (Math.abs(nowEpochSeconds - t) > v.tolerance().toSeconds()) {
                return "stale";
            }
            byte[] base = ("v0:" + ts.get(0).trim() + ":").getBytes(StandardCharsets.US_ASCII);
            signed = new byte[base.length + body.length];
            System.arraycopy(base, 0, signed, 0, base.length);
            System.arraycopy(body, 0, signed, base.length, body.length);
        }
        if (!sent.regionMatches(true, 0, v.prefix(), 0, v.prefix().length())) {
            return "malformed";
        }
        byte[] given;
        try {
            String encoded = sent.substring(v.prefix().length());
            given = v.encoding() == WebhookVerify.Encoding.HEX ? HexFormat.of().parseHex(encoded.toLowerCase())
                    : Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            return "malformed";
        }
        return MessageDigest.isEqual(hmac(v, signed), given) ? null : "mismatch";
    }

    static byte[] hmac(WebhookVerify v, byte[] data) {
        try {
            Mac mac = Mac.getInstance(v.algorithm());
            mac.init(new SecretKeySpec(v.secret(), v.algorithm()));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC " + v.algorithm() + " unavailable", e);
        }
    }
}
