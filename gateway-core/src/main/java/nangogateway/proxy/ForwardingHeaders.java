package nangogateway.proxy;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
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

    static final Set<String> HOP_BY_HOP = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer",
            "proxy-authorization", "proxy-authenticate", "http2-settings");

    /** Set by the gateway or meaningless past it; a client's copy never reaches Nango. */
    static final Set<String> CLIENT_OWNED_BY_GATEWAY = Set.of(
            "host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
            "x-forwarded-prefix", "x-forwarded-server", "x-real-ip", "forwarded", "via", "x-original-url",
            "x-rewrite-url", "x-original-uri", "x-original-host", "x-http-method-override", "x-http-method",
            "x-method-override", "expect", "base-url-override");

    public static final String VIA = "1.1 nango-gateway";

    /**
     * The headers sent to the upstream for a proxied request.
     *
     * @param websocket keep {@code Upgrade: websocket} and {@code Connection: upgrade} for an approved handshake
     */
    public static HttpHeaders toUpstream(HttpHeaders client, boolean websocket, String peerAddress, String scheme,
            String clientHost, String upstreamAuthority) {
        Set<String> named = connectionTokens(client);
        HttpHeaders out = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        for (var e : client) {
            String lower = e.getKey().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || named.contains(lower) || CLIENT_OWNED_BY_GATEWAY.contains(lower)) {
                continue;
            }
            out.add(e.getKey(), e.getValue());
        }
        out.set(HttpHeaderNames.HOST, upstreamAuthority);
        if (websocket) {
            out.set(HttpHeaderNames.CONNECTION, "upgrade");
            out.set(HttpHeaderNames.UPGRADE, "websocket");
        }
        out.set("X-Forwarded-For", peerAddress);
        out.set("X-Forwarded-Proto", scheme);
        out.set("X-Forwarded-Host", clientHost.trim());
        out.set(HttpHeaderNames.VIA, VIA);
        return out;
    }

    /** The upstream response's headers as the client sees them: hop-by-hop removed (framing is re-done). */
    public static void cleanResponse(HttpHeaders headers, boolean upgrade) {
        Set<String> named = connectionTokens(headers);
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
