package nangogateway.tests.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import nangogateway.tests.fuzz.LlhttpRecorder.Field;
import nangogateway.tests.fuzz.LlhttpRecorder.Message;
import nangogateway.tests.fuzz.LlhttpRecorder.NodeRecord;

/**
 * What Node must read behind the gateway for a request llhttp read off the client's connection, restated here from
 * the gateway's documented forwarding rules rather than taken from its code: the same method, target and body
 * bytes, HTTP/1.1, no trailers, and the client's header lines in their order, byte for byte (name case included),
 * minus exactly these:
 * <ul>
 *   <li>hop-by-hop headers and those the gateway owns ({@link #NOT_FORWARDED}), and every header a
 *       {@code Connection} header names;</li>
 *   <li>{@code X-Request-Id}: the client's when it sent exactly one of 1 to 128 characters from
 *       {@code [A-Za-z0-9._:-]}, else one the gateway makes (32 hex digits), exactly once;</li>
 *   <li>{@code Host} (the upstream's authority), {@code X-Forwarded-For} (the client's address),
 *       {@code X-Forwarded-Proto: http}, {@code X-Forwarded-Host} (the client's Host), {@code Via: 1.1
 *       nango-gateway}: set by the gateway, exactly once each;</li>
 *   <li>the framing: a body read whole first (a buffering route) goes with {@code Content-Length} of its length,
 *       however the client framed it; a streamed chunked body with {@code Transfer-Encoding: chunked}; a streamed
 *       body with a length keeps the client's {@code Content-Length} line where it was.</li>
 * </ul>
 */
final class ForwardingModel {
    private ForwardingModel() {
    }

    /** Never forwarded as the client sent them (RFC 9110 section 7.6.1, and the names the gateway sets itself). */
    static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "transfer-encoding", "upgrade", "trailer", "proxy-authorization", "proxy-authenticate", "http2-settings",
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
            "x-forwarded-prefix", "x-forwarded-server", "x-real-ip", "forwarded", "via", "x-original-url",
            "x-rewrite-url", "x-original-uri", "x-original-host", "x-http-method-override", "x-http-method",
            "x-method-override", "expect", "base-url-override");

    private static final String GENERATED_ID = "[0-9a-f]{32}";

    /**
     * Why what Node read ({@code r}) is not what llhttp read off the client's connection ({@code m}) as the
     * gateway forwards it, or null when it is. {@code whole}: Node read the whole request (else the upstream
     * connection closed inside its body, and what Node read of the body must be a start of llhttp's).
     */
    static String difference(Message m, NodeRecord r, boolean whole, boolean streaming, String clientIp,
            String authority) {
        if (!r.method().equals(m.method())) {
            return "method: Node read " + Escapes.escape(r.method()) + ", llhttp " + Escapes.escape(m.method());
        }
        if (!r.url().equals(m.url())) {
            return "target: Node read " + Escapes.escape(r.url()) + ", llhttp " + Escapes.escape(m.url());
        }
        if (!r.version().equals("1.1")) {
            return "version: Node read HTTP/" + r.version() + ", the gateway forwards HTTP/1.1";
        }
        if (whole ? !Arrays.equals(r.body(), m.body()) : !startsWith(m.body(), r.body())) {
            return "body: Node read " + Escapes.escape(r.body()) + (whole ? "" : " (cut)") + ", llhttp "
                    + Escapes.escape(m.body());
        }
        if (!r.trailers().isEmpty()) {
            return "trailers reached Node: " + r.trailers();
        }
        boolean chunked = false;
        long length = -1;
        String host = null;
        List<String> ids = new ArrayList<>();
        Set<String> named = new HashSet<>();
        for (Field f : m.headers()) {
            String n = f.name().toLowerCase(Locale.ROOT);
            switch (n) {
                case "transfer-encoding" -> chunked = true; // llhttp took it, so the body is chunked
                case "content-length" -> {
                    if (length < 0) {
                        length = Long.parseLong(f.value().trim());
                    }
                }
                case "host" -> {
                    if (host == null) {
                        host = f.value();
                    }
                }
                case "x-request-id" -> ids.add(f.value());
                case "connection" -> {
                    if (!f.value().equalsIgnoreCase("keep-alive") && !f.value().equalsIgnoreCase("close")) {
                        for (String t : f.value().split(",")) {
                            named.add(t.trim().toLowerCase(Locale.ROOT));
                        }
                    }
                }
                default -> { }
            }
        }
        boolean hasBody = chunked || length > 0;
        Map<String, String> own = new LinkedHashMap<>();
        own.put("host", authority);
        own.put("x-forwarded-for", clientIp);
        own.put("x-forwarded-proto", "http");
        own.put("x-forwarded-host", host == null ? null : host.trim());
        own.put("via", "1.1 nango-gateway");
        own.put("x-request-id", ids.size() == 1 && ids.get(0).trim().matches("[A-Za-z0-9._:-]{1,128}")
                ? ids.get(0).trim() : GENERATED_ID);
        if (hasBody && !streaming) {
            own.put("content-length", Long.toString(m.body().length));
        }
        if (chunked && streaming) {
            own.put("transfer-encoding", "chunked");
        }
        List<Field> kept = new ArrayList<>();
        for (Field f : m.headers()) {
            String n = f.name().toLowerCase(Locale.ROOT);
            if (!NOT_FORWARDED.contains(n) && !named.contains(n) && !own.containsKey(n)) {
                kept.add(f);
            }
        }
        List<Field> rest = new ArrayList<>();
        Map<String, List<String>> seen = new LinkedHashMap<>();
        for (Field f : r.headers()) {
            String n = f.name().toLowerCase(Locale.ROOT);
            if (own.containsKey(n)) {
                seen.computeIfAbsent(n, k -> new ArrayList<>()).add(f.value());
            } else {
                rest.add(f);
            }
        }
        if (!rest.equals(kept)) {
            return "client headers: Node read " + rest + ", the gateway should forward " + kept + " of llhttp's "
                    + m.headers();
        }
        for (Map.Entry<String, String> e : own.entrySet()) {
            List<String> v = seen.getOrDefault(e.getKey(), List.of());
            boolean ok = v.size() == 1 && (e.getValue() == GENERATED_ID ? v.get(0).matches(GENERATED_ID)
                    : v.get(0).equals(e.getValue()));
            if (!ok) {
                return e.getKey() + ": Node read " + v + ", expected exactly " + e.getValue();
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] whole, byte[] start) {
        return start.length <= whole.length && Arrays.equals(start, 0, start.length, whole, 0, start.length);
    }
}
