package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import nangogateway.config.AccessLogFormat;
import nangogateway.config.Cidr;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ServerSettings;
import nangogateway.exchange.GatewaySnapshot;
import org.junit.jupiter.api.Test;

/** Who the client is: the socket peer, unless a trusted proxy vouches for an address in X-Forwarded-For. */
class ClientAddressHandlerTest {
    private static final List<Cidr> TRUSTED = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1/128"));

    /** EmbeddedChannel's own remote address is not an InetSocketAddress; the handler needs a real-looking peer. */
    private static final class PeerChannel extends EmbeddedChannel {
        private final InetSocketAddress peer;

        PeerChannel(InetSocketAddress peer) {
            super(); // handlers are added once the peer is known
            this.peer = peer;
        }

        @Override
        public SocketAddress remoteAddress() {
            return peer;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return peer;
        }
    }

    /** A config whose listener "public" believes {@code trusted}. */
    private static GatewaySnapshot snapshot(List<Cidr> trusted) {
        ListenerOptions options = new ListenerOptions(null, false, null, trusted, null, 0, 0,
                AccessLogFormat.COMBINED, Set.of());
        ListenerConfig l = new ListenerConfig("public", "127.0.0.1", 0, null, List.of(), 403, ListenerLimits.DEFAULTS,
                options);
        return new GatewaySnapshot(new GatewayConfig("test", Map.of(), List.of(l), Map.of(), ServerSettings.DEFAULTS));
    }

    private static EmbeddedChannel channel(String peerIp, Supplier<GatewaySnapshot> snapshots) {
        EmbeddedChannel ch = new PeerChannel(new InetSocketAddress(peerIp, 4444));
        ch.pipeline().addLast(new ClientAddressHandler("public", snapshots));
        return ch;
    }

    private static EmbeddedChannel channel(String peerIp, List<Cidr> trusted) {
        GatewaySnapshot s = snapshot(trusted);
        return channel(peerIp, () -> s);
    }

    private static HttpRequest request(String... forwardedFor) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        r.headers().set("Host", "gw.example.com");
        for (String v : forwardedFor) {
            r.headers().add("X-Forwarded-For", v);
        }
        return r;
    }

    /** Sends one request head and returns the resolved client address; the head is passed on unchanged. */
    private static String resolve(EmbeddedChannel ch, HttpRequest r) {
        ch.writeInbound(r);
        Object passed = ch.readInbound();
        assertSame(r, passed, "the request is handed on");
        ReferenceCountUtil.release(passed);
        return RequestFacts.of(ch).resolvedClientAddress();
    }

    private static String resolveOnce(String peerIp, String... forwardedFor) {
        EmbeddedChannel ch = channel(peerIp, TRUSTED);
        try {
            return resolve(ch, request(forwardedFor));
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void untrustedPeerIsTheClientWhateverItClaims() {
        assertEquals("203.0.113.7", resolveOnce("203.0.113.7", "198.51.100.1"));
        assertEquals("203.0.113.7", resolveOnce("203.0.113.7", "10.0.0.9"), "claiming a trusted hop does not help");
        assertEquals("203.0.113.7", resolveOnce("203.0.113.7"));
    }

    @Test
    void withNoTrustedProxiesForwardedForIsIgnored() {
        EmbeddedChannel ch = channel("10.0.0.5", List.of());
        try {
            assertEquals("10.0.0.5", resolve(ch, request("198.51.100.1")));
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void trustedPeerWithoutForwardedForIsTheClient() {
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5"));
    }

    @Test
    void trustedPeerTakesTheRightMostUntrustedHop() {
        // The left-most entry is whatever the client wrote; only hops added by trusted proxies count.
        assertEquals("203.0.113.9", resolveOnce("10.0.0.5", "198.51.100.1, 203.0.113.9"));
        assertEquals("203.0.113.9", resolveOnce("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7, 10.1.2.3"),
                "trusted hops are skipped");
        assertEquals("203.0.113.9", resolveOnce("10.0.0.5", "198.51.100.1,203.0.113.9"), "no space after the comma");
    }

    @Test
    void repeatedHeadersAreOneChainInOrder() {
        assertEquals("203.0.113.9", resolveOnce("10.0.0.5", "198.51.100.1", "203.0.113.9, 10.0.0.7"));
        assertEquals("198.51.100.1", resolveOnce("10.0.0.5", "203.0.113.9", "198.51.100.1"));
    }

    @Test
    void whenEveryHopIsTrustedTheLeftMostWins() {
        assertEquals("10.0.0.9", resolveOnce("10.0.0.5", "10.0.0.9, 10.0.0.8"));
    }

    @Test
    void garbageStopsTheWalkAtTheLastGoodAddress() {
        assertEquals("10.0.0.7", resolveOnce("10.0.0.5", "198.51.100.1, garbage, 10.0.0.7"),
                "an untrusted address left of garbage is not believed");
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "198.51.100.1, not an ip"));
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "198.51.100.1, "), "an empty hop is garbage");
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "198.51.100.1:5555"), "a port is not part of an address");
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "fe80::1%eth0"), "nor is a zone");
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "1.2.3"), "only full dotted quads");
        assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "unknown"), "as some proxies write it");
    }

    @Test
    void namesAreNeverLookedUp() {
        // Resolved, "localhost" would be 127.0.0.1 and "cafe" (all hex digits) might be anything.
        for (String name : List.of("localhost", "localhost.", "cafe", "example.com", "[localhost]")) {
            assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "198.51.100.1, " + name), name);
        }
        assertNull(ClientAddressHandler.parseLiteral("localhost"));
        assertNull(ClientAddressHandler.parseLiteral("cafe"));
        // Out-of-range octets: the JDK would take these for host names and ask DNS.
        for (String bad : List.of("256.1.1.1", "999.999.999.999", "1.2.3.0400", "1.2.3.4.5", "01.2.3.-4")) {
            assertNull(ClientAddressHandler.parseLiteral(bad), bad);
            assertEquals("10.0.0.5", resolveOnce("10.0.0.5", "198.51.100.1, " + bad), bad);
        }
        assertEquals("255.255.255.255", ClientAddressHandler.parseLiteral("255.255.255.255").getHostAddress());
        assertEquals("1.2.3.4", ClientAddressHandler.parseLiteral("001.002.003.004").getHostAddress());
    }

    @Test
    void ipv6HopsWithAndWithoutBrackets() {
        assertEquals("2001:db8:0:0:0:0:0:1", resolveOnce("::1", "[2001:db8::1]"));
        assertEquals("2001:db8:0:0:0:0:0:2", resolveOnce("10.0.0.5", "2001:db8::2, ::1"));
        assertEquals("203.0.113.9", resolveOnce("::1", "::ffff:203.0.113.9"), "IPv4-mapped is the IPv4 client");
    }

    @Test
    void aFailedDecodeIsNotBelievedEvenFromATrustedPeer() {
        HttpRequest r = request("198.51.100.1");
        r.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("bad header")));
        EmbeddedChannel ch = channel("10.0.0.5", TRUSTED);
        try {
            assertEquals("10.0.0.5", resolve(ch, r));
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void eachRequestOnAConnectionIsResolvedAfresh() {
        // A trusted proxy reuses its connection for many clients.
        EmbeddedChannel ch = channel("10.0.0.5", TRUSTED);
        try {
            assertEquals("198.51.100.1", resolve(ch, request("198.51.100.1")));
            assertEquals("198.51.100.2", resolve(ch, request("198.51.100.2")));
            assertEquals("10.0.0.5", resolve(ch, request()));
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aReloadAppliesToTheNextRequestOnAnOpenConnection() {
        AtomicReference<GatewaySnapshot> current = new AtomicReference<>(snapshot(TRUSTED));
        EmbeddedChannel ch = channel("10.0.0.5", current::get);
        try {
            assertEquals("198.51.100.1", resolve(ch, request("198.51.100.1")), "trusted before the reload");
            current.set(snapshot(List.of(Cidr.parse("::1/128")))); // 10.0.0.0/8 removed
            assertEquals("10.0.0.5", resolve(ch, request("198.51.100.2")), "no longer trusted after it");
            current.set(snapshot(List.of(Cidr.parse("10.0.0.5"))));
            assertEquals("198.51.100.3", resolve(ch, request("198.51.100.3")), "trusted again once re-added");
            current.set(new GatewaySnapshot(new GatewayConfig("test", Map.of(), List.of(), Map.of(),
                    ServerSettings.DEFAULTS)));
            assertEquals("10.0.0.5", resolve(ch, request("198.51.100.4")), "a removed listener trusts nobody");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void bodyContentPassesWithoutTouchingTheAddress() {
        EmbeddedChannel ch = channel("10.0.0.5", TRUSTED);
        try {
            FullHttpRequest full = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            full.headers().set("X-Forwarded-For", "198.51.100.1");
            assertEquals("198.51.100.1", resolve(ch, full));
            ch.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
            assertSame(LastHttpContent.EMPTY_LAST_CONTENT, ch.readInbound());
            assertEquals("198.51.100.1", RequestFacts.of(ch).resolvedClientAddress());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aPeerWithoutAnIpAddressIsUnknown() {
        GatewaySnapshot s = snapshot(TRUSTED);
        EmbeddedChannel ch = new EmbeddedChannel(new ClientAddressHandler("public", () -> s)); // not an IP peer
        try {
            assertNull(RequestFacts.of(ch).resolvedClientAddress());
            assertEquals("unknown", resolve(ch, request("198.51.100.1")));
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
