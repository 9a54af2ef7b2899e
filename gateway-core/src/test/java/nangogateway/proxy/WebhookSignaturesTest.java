package nangogateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import nangogateway.config.WebhookVerify;
import org.junit.jupiter.api.Test;

/** Signatures from the providers' own documentation, checked byte for byte. */
class WebhookSignaturesTest {
    // Slack, "Verifying requests from Slack": the documented signing secret, timestamp, body and signature.
    private static final String SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    private static final String SLACK_BODY = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
            + "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
            + "&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            + "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    private static final long SLACK_TS = 1531420618;
    private static final String SLACK_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    // GitHub, "Validating webhook deliveries": secret, payload and the expected X-Hub-Signature-256.
    private static final String GITHUB_SECRET = "It's a Secret to Everybody";
    private static final String GITHUB_BODY = "Hello, World!";
    private static final String GITHUB_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    private static WebhookVerify slack() {
        return WebhookVerify.slack(SLACK_SECRET.getBytes(StandardCharsets.UTF_8), "slack.secret", Duration.ofMinutes(5));
    }

    private static HttpHeaders slackHeaders(String ts, String sig) {
        HttpHeaders h = new DefaultHttpHeaders();
        if (ts != null) {
            h.add("X-Slack-Request-Timestamp", ts);
        }
        if (sig != null) {
            h.add("X-Slack-Signature", sig);
        }
        return h;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void slackDocumentedExampleVerifies() {
        assertNull(WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG), bytes(SLACK_BODY),
                SLACK_TS + 10));
    }

    @Test
    void slackTimestampsAreAcceptedWithinTheToleranceEitherSide() {
        // Five minutes of tolerance: a clock behind or ahead of Slack's by up to that much still verifies.
        for (long skew : new long[] {-300, -1, 0, 1, 300}) {
            assertNull(WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG), bytes(SLACK_BODY),
                    SLACK_TS + skew), "now - timestamp = " + skew);
        }
        assertEquals("stale", WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS + 301), "an old timestamp");
        assertEquals("stale", WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS - 301), "a timestamp from the future is not a way around replay");
    }

    @Test
    void slackRefusesStaleTamperedAndMissing() {
        assertEquals("stale", WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS + 301));
        assertEquals("mismatch", WebhookSignatures.problem(slack(), slackHeaders("1531420618", SLACK_SIG),
                bytes(SLACK_BODY + "&x=1"), SLACK_TS));
        assertEquals("mismatch", WebhookSignatures.problem(slack(), slackHeaders("1531420619", SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS));
        assertEquals("missing", WebhookSignatures.problem(slack(), slackHeaders("1531420618", null),
                bytes(SLACK_BODY), SLACK_TS));
        assertEquals("missing", WebhookSignatures.problem(slack(), slackHeaders(null, SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS));
        assertEquals("malformed", WebhookSignatures.problem(slack(), slackHeaders("1531420618", "v1=abcd"),
                bytes(SLACK_BODY), SLACK_TS));
        assertEquals("malformed", WebhookSignatures.problem(slack(), slackHeaders("soon", SLACK_SIG),
                bytes(SLACK_BODY), SLACK_TS));
    }

    @Test
    void githubDocumentedExampleVerifies() {
        WebhookVerify gh = WebhookVerify.github(bytes(GITHUB_SECRET), "github.secret");
        HttpHeaders h = new DefaultHttpHeaders().add("X-Hub-Signature-256", GITHUB_SIG);
        assertNull(WebhookSignatures.problem(gh, h, bytes(GITHUB_BODY), 0));
        assertEquals("mismatch", WebhookSignatures.problem(gh, h, bytes("Hello, World?"), 0));
        HttpHeaders twice = new DefaultHttpHeaders().add("X-Hub-Signature-256", GITHUB_SIG)
                .add("X-Hub-Signature-256", GITHUB_SIG);
        assertEquals("malformed", WebhookSignatures.problem(gh, twice, bytes(GITHUB_BODY), 0));
    }

    @Test
    void genericHmacWithBase64AndSha512() {
        WebhookVerify v = new WebhookVerify(WebhookVerify.Kind.HMAC, bytes("k3y"), "x", "X-Signature", "HmacSHA512",
                WebhookVerify.Encoding.BASE64, "", Duration.ZERO);
        String sig = java.util.Base64.getEncoder().encodeToString(WebhookSignatures.hmac(v, bytes("{\"a\":1}")));
        assertNull(WebhookSignatures.problem(v, new DefaultHttpHeaders().add("X-Signature", sig), bytes("{\"a\":1}"), 0));
        assertEquals("mismatch", WebhookSignatures.problem(v, new DefaultHttpHeaders().add("X-Signature", sig),
                bytes("{\"a\":2}"), 0));
        assertEquals("malformed", WebhookSignatures.problem(v, new DefaultHttpHeaders().add("X-Signature", "***"),
                bytes("{}"), 0));
    }
}
