package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import nangogateway.config.AccessLogFormat;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ServerSettings;
import nangogateway.observe.AccessLogHandler;
import nangogateway.server.Gateway;
import nangogateway.testing.FlatJson;
import nangogateway.testing.LogCapture;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand generated requests with hostile targets, Referers and User-Agents (quotes, backslashes, control and
 * non-UTF-8 bytes, every parameter separator, bracketed and encoded names, secrets nested in other values), each
 * sent to a listener logging in the combined format and to one logging JSON. Every line must parse with a strict
 * reader of its format, and no line may hold any of the secrets: each secret value carries the marker
 * {@value #MARK}, so one look per line covers them all. Seeded: a failure names the input that caused it.
 */
class AccessLogHostileInputTest {
    private static final long SEED = 20_261_202L;
    private static final int INPUTS = 10_000;
    private static final String MARK = "zSeC";

    /** Printable ASCII but {@code "} and {@code \}, or one of the escapes the gateway writes. */
    private static final String Q = "(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\"\\\\]|\\\\x[0-9a-f]{2}|\\\\u[0-9a-f]{4})*";
    private static final Pattern COMBINED = Pattern.compile("^(\\S+) - - \\[(\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} "
            + "[+-]\\d{4})\\] \"(" + Q + ")\" (\\d{3}) (\\d+) \"(" + Q + ")\" \"(" + Q + ")\" listener=(\\S+) "
            + "route=\"(" + Q + ")\" rt=(\\d+\\.\\d{3}) urt=(\\d+\\.\\d{3}|-) us=(\\d{3}|-) rid=([0-9a-f]{32}|-)$");
    private static final Pattern REQUEST = Pattern.compile("^(\\S+) (\\S+) (HTTP/1\\.[01]|-)$");

    private static final String[] PATHS = {"/oauth/callback", "/integrations/oauth-callback", "/oauth/connect/github",
        "/api/v1/account", "/connect/session", "/webhook/prod/github", "/proxy/x", "/a\"b", "/a\\b", "/%2e%2e/x",
        "/oauth/callback/", "/\u00e9t\u00e9", "/x\u0080\u00ff"};
    private static final String[] SECRET_NAMES = {"code", "state", "access_token", "token", "connect_session_token",
        "client_secret", "code[]", "state[0]", "a[access_token]", "c%6Fde", "CODE", "St%61te", "x_auth_token",
        "refresh_token", "id_token", "oauth_verifier", "my_secret", "code%5B%5D", "user.password"};
    private static final String[] SEPARATORS = {"&", ";", "&amp;", "#", "?", "&&", "&;"};
    private static final String[] FILLERS = {"x=a\"b", "y=\\", "z=%22", "q=\u00e9", "w=\u00ff\u0080", "n=1",
        "p=%2F%3F", "e=", "k", "scope=read%20write", "u=\"\\\"", "v=%5C%22", "provider=github", "t=a=b=c", "\u00c3"};
    private static final String[] AGENT_PARTS = {"Mozilla/5.0", "\"", "\\", "\\\"", "\t", "\u00e9", "\u0080",
        "\u00ff", " ", "x\"y", "\\x22", "%22", "curl/8", "{\"json\":1}", "] [", "\\u0022"};

    @Test
    void everyLineOfBothFormatsParsesAndHoldsNoSecret() throws Exception {
        try (MockWebServer nango = new MockWebServer()) {
            nango.setDispatcher(new mockwebserver3.Dispatcher() {
                @Override
                public MockResponse dispatch(mockwebserver3.RecordedRequest request) {
                    return new MockResponse.Builder().body("ok").build();
                }
            });
            nango.start();
            Gateway gateway = Gateway.start(new GatewayConfig("test",
                    Map.of("nango", TestConfigs.nango(nango.getPort(), Duration.ofSeconds(5))),
                    List.of(listener("combined", AccessLogFormat.COMBINED), listener("json", AccessLogFormat.JSON)),
                    Map.of(), ServerSettings.DEFAULTS));
            try (LogCapture log = new LogCapture(AccessLogHandler.LOGGER, Level.INFO)) {
                Random rnd = new Random(SEED);
                Map<Integer, Integer> statuses = new TreeMap<>();
                for (int i = 0; i < INPUTS; i++) {
                    byte[] request = request(rnd, i);
                    for (String listener : new String[] {"combined", "json"}) {
                        int status = exchange(gateway.port(listener), request);
                        statuses.merge(status, 1, Integer::sum);
                        List<String> lines = log.lines();
                        assertEquals(1, lines.size(), "one line per request; input " + i + ": " + show(request));
                        check(listener, lines.get(0), i, request);
                        log.clear();
                    }
                }
                // Not a battery of refusals only: the inputs reach Nango, the router and the guard alike.
                assertTrue(statuses.getOrDefault(200, 0) > INPUTS / 10, statuses.toString());
                assertTrue(statuses.getOrDefault(400, 0) > INPUTS / 10, statuses.toString());
                assertTrue(statuses.getOrDefault(403, 0) > INPUTS / 20, statuses.toString());
            } finally {
                gateway.close();
            }
        }
    }

    private static ListenerConfig listener(String name, AccessLogFormat format) {
        return new ListenerConfig(name, "127.0.0.1", 0, null, TestConfigs.publicRoutes(), 403, ListenerLimits.DEFAULTS,
                new ListenerOptions(null, false, null, List.of(), null, 0, 0, format, Set.of("my_secret")));
    }

    private static void check(String listener, String line, int input, byte[] request) {
        String why = "input " + input + " (" + show(request) + ") gave: " + line;
        assertTrue(line.chars().allMatch(c -> c >= 0x20 && c <= 0x7e), "a raw byte outside printable ASCII: " + why);
        assertTrue(!line.contains(MARK), "a secret in the line: " + why);
        if (listener.equals("combined")) {
            Matcher m = COMBINED.matcher(line);
            assertTrue(m.matches(), "not a combined-format line: " + why);
            assertTrue(REQUEST.matcher(m.group(3)).matches(), "the request field is not method, target, protocol: "
                    + why);
            assertEquals("combined", m.group(8), why);
        } else {
            Map<String, Object> json = FlatJson.parse(line);
            for (String field : new String[] {"method", "target", "protocol", "referer", "user_agent"}) {
                Object v = json.get(field);
                assertTrue(v == null || v instanceof String, field + " " + why);
                assertTrue(v == null || !((String) v).contains(MARK), "a secret in " + field + ": " + why);
            }
            assertEquals("json", json.get("listener"), why);
        }
    }

    // ---- the generator ----

    private static byte[] request(Random rnd, int n) {
        StringBuilder b = new StringBuilder();
        String method = pick(rnd, new String[] {"GET", "GET", "GET", "POST", "HEAD"});
        b.append(method).append(' ').append(target(rnd, n)).append(pick(rnd, new String[] {" HTTP/1.1", " HTTP/1.1",
                " HTTP/1.0"})).append("\r\nHost: gw.example\r\n");
        if (rnd.nextInt(4) > 0) {
            b.append("Referer: ").append(referer(rnd, n)).append("\r\n");
        }
        if (rnd.nextInt(4) > 0) {
            b.append("User-Agent: ").append(agent(rnd)).append("\r\n");
        }
        if (method.equals("POST")) {
            b.append("Content-Length: 0\r\n");
        }
        b.append("Connection: close\r\n\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String target(Random rnd, int n) {
        StringBuilder t = new StringBuilder(pick(rnd, PATHS));
        if (rnd.nextInt(20) == 0) {
            t.append((char) pick(rnd, new int[] {0x01, 0x1b, 0x7f, 0x00}));
        }
        if (rnd.nextInt(10) > 0) {
            t.append(pick(rnd, new String[] {"?", "?", "?", "#", "?x=1#", "?;"}));
            query(rnd, n, t);
        }
        return t.toString();
    }

    private static String referer(Random rnd, int n) {
        StringBuilder r = new StringBuilder(pick(rnd, new String[] {"https://accounts.example.com/o/oauth2/auth",
            "https://app.example/cb", "https://a/\"q\\", "http://x/\u00e9"}));
        r.append(pick(rnd, new String[] {"?", "#", "?x=1#", "#/cb?"}));
        query(rnd, n, r);
        return r.toString();
    }

    /** One to five parameters: secrets under every spelling, hostile fillers, secrets nested in a value. */
    private static void query(Random rnd, int n, StringBuilder q) {
        int pairs = 1 + rnd.nextInt(5);
        for (int p = 0; p < pairs; p++) {
            if (p > 0) {
                q.append(pick(rnd, SEPARATORS));
            }
            String secret = MARK + n + "x" + p;
            switch (rnd.nextInt(4)) {
                case 0, 1 -> q.append(pick(rnd, SECRET_NAMES)).append('=').append(secret);
                case 2 -> q.append(pick(rnd, FILLERS));
                default -> {
                    String nested = "/cb?" + pick(rnd, SECRET_NAMES) + "=" + secret;
                    for (int round = rnd.nextInt(3); round >= 0; round--) {
                        nested = URLEncoder.encode(nested, StandardCharsets.UTF_8);
                    }
                    q.append("next=").append(nested);
                }
            }
        }
    }

    private static String agent(Random rnd) {
        StringBuilder a = new StringBuilder();
        for (int i = 1 + rnd.nextInt(5); i > 0; i--) {
            a.append(pick(rnd, AGENT_PARTS));
        }
        if (rnd.nextInt(30) == 0) {
            a.append((char) 0x01); // a control byte: the decoder refuses the request
        }
        return a.toString();
    }

    private static String pick(Random rnd, String[] from) {
        return from[rnd.nextInt(from.length)];
    }

    private static int pick(Random rnd, int[] from) {
        return from[rnd.nextInt(from.length)];
    }

    // ---- the wire ----

    /** Sends the bytes on a fresh connection; the response's status (0 when the gateway closed without one). */
    private static int exchange(int port, byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                got.write(buf, 0, r);
            }
            String head = got.toString(StandardCharsets.ISO_8859_1);
            return head.startsWith("HTTP/1.1 ") && head.length() >= 12 ? Integer.parseInt(head.substring(9, 12)) : 0;
        }
    }

    private static String show(byte[] request) {
        StringBuilder b = new StringBuilder();
        for (byte x : request) {
            int c = x & 0xff;
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return b.toString();
    }
}
