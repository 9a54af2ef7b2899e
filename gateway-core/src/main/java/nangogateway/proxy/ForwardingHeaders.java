package nangogateway.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.List;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which headers cross the gateway. Hop-by-hop headers (RFC 9110 section 7.6.1) and those a {@code Connection}
 * header names are removed before the gateway adds its own, so {@code Connection: close, X-Forwarded-For} cannot
 * delete the address the gateway sets. Client-sent forwarding and URL-override headers are dropped: Nango
 * trusts exactly one proxy hop, and that hop is the gateway.
 */
public final class ForwardingHeaders {
    private ForwardingHeaders() {
    }

    /** Hop-by-hop headers (RFC 9110 section 7.6.1 and RFC 2616 section 13.5.1) and h2c's settings. */
    static final List<AsciiString> HOP_BY_HOP = names(
            "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer",
            "proxy-authorization", "proxy-authenticate", "http2-settings");

    /** Set by the gateway or meaningless past it; a client's copy never reaches Nango. */
    static final List<AsciiString> CLIENT_OWNED_BY_GATEWAY = names(
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
            "x-forwarded-prefix", "x-forwarded-server", "x-real-ip", "forwarded", "via", "x-original-url",
            "x-rewrite-url", "x-original-uri", "x-original-host", "x-http-method-override", "x-http-method",
            "x-method-override", "expect", "base-url-override");

    public static final String VIA = "1.1 nango-gateway";

    private static List<AsciiString> names(String... names) {
        return Arrays.stream(names).map(AsciiString::cached).toList();
    }

    /**
     * Turns the client's request headers, in place, into the headers sent to the upstream for a proxied request.
     *
     * @param websocket keep {@code Upgrade: websocket} and {@code Connection: upgrade} for an approved handshake
     */
    public static HttpHeaders toUpstream(HttpHeaders headers, boolean websocket, String peerAddress, String scheme,
            String clientHost, String upstreamAuthority) {
        if (headers.contains(HttpHeaderNames.CONNECTION)) {
            for (String token : connectionTokens(headers)) {
                headers.remove(token);
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
        for (AsciiString name : CLIENT_OWNED_BY_GATEWAY) {
            headers.remove(name);
        }
        headers.set(HttpHeaderNames.HOST, upstreamAuthority);
        if (websocket) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        }
        headers.set(X_FORWARDED_FOR, peerAddress);
        headers.set(X_FORWARDED_PROTO, scheme);
        headers.set(X_FORWARDED_HOST, clientHost.trim());
        headers.set(HttpHeaderNames.VIA, VIA);
        return headers;
    }

    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");

    /** The upstream response's headers as the client sees them: hop-by-hop removed (framing is re-done). */
    public static void cleanResponse(HttpHeaders headers, boolean upgrade) {
        Set<String> named = headers.contains(HttpHeaderNames.CONNECTION) ? connectionTokens(headers) : Set.of();
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.remove(HttpHeaderNames.TRAILER);
        headers.remove(HttpHeaderNames.KEEP_ALIVE);
        headers.remove("Proxy-Connection");
        headers.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
        for (String n : named) {
            if (!n.equals("upgrade") || !upgrade) {
                headers.remove(n);
            }
        }
        if (upgrade) {
            headers.set(HttpHeaderNames.CONNECTION, "upgrade");
        } else {
            headers.remove(HttpHeaderNames.CONNECTION);
            headers.remove(HttpHeaderNames.UPGRADE);
        }
    }

    private static Set<String> connectionTokens(HttpHeaders h) {
        Set<String> named = new HashSet<>();
        for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String t : value.split(",")) {
                String token = t.trim().toLowerCase(Locale.ROOT);
                if (!token.isEmpty()) {
                    named.add(token);
                }
            }
        }
        return named;
    }
}
