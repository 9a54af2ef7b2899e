package nangogateway.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

    /** The names above, for a one-pass membership test. */
    private static final NameSet NOT_FORWARDED = new NameSet(
            java.util.stream.Stream.concat(HOP_BY_HOP.stream(), CLIENT_OWNED_BY_GATEWAY.stream()).toList());
    /** Response headers that describe the upstream hop, not the message. */
    private static final NameSet RESPONSE_HOP_BY_HOP = new NameSet(
            names(nangogateway.upstream.UpstreamResponseDecoder.HOP_BY_HOP.toArray(String[]::new)));

    /**
     * Turns the client's request headers, in place, into the headers sent upstream: hop-by-hop ones, those a
     * {@code Connection} header names and those the gateway owns are removed, then the gateway's own are set. One
     * pass finds what to remove (usually nothing), rather than one look-up per name that could be there.
     *
     * @param websocket keep {@code Upgrade: websocket} and {@code Connection: upgrade} for an approved handshake
     */
    public static HttpHeaders toUpstream(HttpHeaders headers, boolean websocket, String peerAddress, String scheme,
            String clientHost, String upstreamAuthority) {
        List<CharSequence> drop = NOT_FORWARDED.presentIn(headers);
        if (drop != null) {
            Set<String> named = headers.contains(HttpHeaderNames.CONNECTION) ? connectionTokens(headers) : Set.of();
            for (CharSequence n : drop) {
                headers.remove(n);
            }
            for (String n : named) {
                headers.remove(n);
            }
        }
        headers.set(HttpHeaderNames.HOST, upstreamAuthority);
        if (websocket) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            headers.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        }
        headers.set(X_FORWARDED_FOR, peerAddress);
        headers.set(X_FORWARDED_PROTO, scheme);
        headers.set(X_FORWARDED_HOST, clientHost.trim());
        headers.set(HttpHeaderNames.VIA, VIA_VALUE);
        return headers;
    }

    private static final AsciiString VIA_VALUE = AsciiString.cached(VIA);
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");

    /** The upstream response's headers as the client sees them: hop-by-hop removed (framing is re-done). */
    public static void cleanResponse(HttpHeaders headers, boolean upgrade) {
        // The common response has only Connection: keep-alive to drop.
        List<CharSequence> found = RESPONSE_HOP_BY_HOP.presentIn(headers);
        if (found == null) {
            if (upgrade) {
                headers.set(HttpHeaderNames.CONNECTION, "upgrade");
            }
            return;
        }
        Set<String> named = headers.contains(HttpHeaderNames.CONNECTION) ? connectionTokens(headers) : Set.of();
        for (CharSequence n : found) {
            if (!upgrade || !HttpHeaderNames.UPGRADE.contentEqualsIgnoreCase(n)) {
                headers.remove(n);
            }
        }
        for (String n : named) {
            if (!n.equals("upgrade") || !upgrade) {
                headers.remove(n);
            }
        }
        if (upgrade) {
            headers.set(HttpHeaderNames.CONNECTION, "upgrade");
        }
    }

    /** A fixed set of header names, matched ignoring ASCII case, without allocating. */
    static final class NameSet {
        private final AsciiString[] names;
        private final int[] hashes;

        NameSet(List<AsciiString> names) {
            this.names = names.toArray(new AsciiString[0]);
            this.hashes = new int[this.names.length];
            for (int i = 0; i < hashes.length; i++) {
                hashes[i] = AsciiString.hashCode(this.names[i]);
            }
        }

        /** The names of {@code headers} in this set, in one pass; null when there are none (the common case). */
        List<CharSequence> presentIn(HttpHeaders headers) {
            List<CharSequence> found = null;
            for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
                CharSequence name = it.next().getKey();
                if (contains(name)) {
                    if (found == null) {
                        found = new ArrayList<>(4);
                    }
                    found.add(name);
                }
            }
            return found;
        }

        boolean contains(CharSequence name) {
            int h = AsciiString.hashCode(name);
            for (int i = 0; i < hashes.length; i++) {
                if (hashes[i] == h && names[i].contentEqualsIgnoreCase(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The header names a {@code Connection} header lists, lower case. {@code keep-alive} and {@code close}, the
     * values nearly every message carries, name nothing that is not removed anyway, so they cost no parsing.
     */
    private static Set<String> connectionTokens(HttpHeaders h) {
        Set<String> named = null;
        for (Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(HttpHeaderNames.CONNECTION); it.hasNext(); ) {
            CharSequence value = it.next();
            if (HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(value)
                    || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(value)) {
                continue;
            }
            for (String t : value.toString().split(",")) {
                String token = t.trim().toLowerCase(Locale.ROOT);
                if (!token.isEmpty()) {
                    if (named == null) {
                        named = new HashSet<>();
                    }
                    named.add(token);
                }
            }
        }
        return named == null ? Set.of() : named;
    }
}
