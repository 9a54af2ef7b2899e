package nangogateway.server;

import nangogateway.exchange.GatewaySnapshot;
import nangogateway.net.Transport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DefaultSocketChannelConfig;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketChannelConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import nangogateway.config.AccessLogFormat;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.config.ProxyAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.config.TlsConfig;
import nangogateway.config.UpstreamConfig;
import nangogateway.target.PathPattern;
import nangogateway.upstream.UpstreamPools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline order, asserted in one place. The initializer takes a {@link SocketChannel}, so the test runs it on
 * an {@link EmbeddedChannel} that is also a SocketChannel (the only SocketChannel-specific thing it needs is the
 * type); the initializer is installed before registration and runs on register, exactly as on an accepted socket.
 */
class GatewayChannelInitializerTest {
    private final List<EmbeddedSocketChannel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException {
        for (EmbeddedSocketChannel ch : channels) {
            ch.finishAndReleaseAll();
            ch.closeSocket();
        }
    }

    /** An embedded channel that passes for an accepted TCP connection from 192.0.2.10. */
    static final class EmbeddedSocketChannel extends EmbeddedChannel implements SocketChannel {
        private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 8443);
        private static final InetSocketAddress REMOTE = new InetSocketAddress("192.0.2.10", 50123);
        private Socket socket;
        private SocketChannelConfig socketConfig;

        EmbeddedSocketChannel(GatewayChannelInitializer initializer) {
            super(false, false, initializer); // not registered yet: the initializer runs on register()
        }

        @Override
        public synchronized SocketChannelConfig config() {
            if (socketConfig == null) {
                socket = new Socket();
                socketConfig = new DefaultSocketChannelConfig(this, socket);
            }
            return socketConfig;
        }

        void closeSocket() throws IOException {
            if (socket != null) {
                socket.close();
            }
        }

        @Override
        public ServerSocketChannel parent() {
            return null;
        }

        @Override
        public InetSocketAddress localAddress() {
            return LOCAL;
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return REMOTE;
        }

        @Override
        protected SocketAddress localAddress0() {
            return LOCAL;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return REMOTE;
        }

        @Override
        public boolean isInputShutdown() {
            return false;
        }

        @Override
        public ChannelFuture shutdownInput() {
            return close();
        }

        @Override
        public ChannelFuture shutdownInput(ChannelPromise promise) {
            return close(promise);
        }

        @Override
        public boolean isOutputShutdown() {
            return false;
        }

        @Override
        public ChannelFuture shutdownOutput() {
            return close();
        }

        @Override
        public ChannelFuture shutdownOutput(ChannelPromise promise) {
            return close(promise);
        }

        @Override
        public boolean isShutdown() {
            return !isActive();
        }

        @Override
        public ChannelFuture shutdown() {
            return close();
        }

        @Override
        public ChannelFuture shutdown(ChannelPromise promise) {
            return close(promise);
        }
    }

    private static ListenerConfig listener(TlsConfig tls, ListenerOptions options) {
        RouteConfig route = new RouteConfig("oauth-connect", List.of(PathPattern.compile("/oauth/connect/{key}")),
                null, Set.of("GET"), List.of(), false, new ProxyAction("nango", ProxyAction.DEFAULT_MAX_REQUEST_BODY,
                        ProxyAction.BaseUrlOverrideMode.STRIP, null), 1);
        return new ListenerConfig("public", "127.0.0.1", 0, tls, List.of(route), 403, ListenerLimits.DEFAULTS,
                options);
    }

    private static ListenerOptions options(String hsts, boolean redirect) {
        return new ListenerOptions(hsts, redirect, null, List.of(), null, 0, 0, AccessLogFormat.COMBINED, Set.of());
    }

    private static GatewayConfig config(ListenerConfig l) {
        UpstreamConfig nango = new UpstreamConfig("nango", "http", "127.0.0.1", 3003, Duration.ofSeconds(2),
                Duration.ofSeconds(60), Duration.ofSeconds(4), 256);
        return new GatewayConfig("test", Map.of("nango", nango), List.of(l), Map.of(), ServerSettings.DEFAULTS);
    }

    private EmbeddedSocketChannel initialise(GatewaySnapshot snapshot) throws Exception {
        GatewayServices services = new GatewayServices(new UpstreamPools(Transport.nio(), 1), Transport.nio());
        EmbeddedSocketChannel ch = new EmbeddedSocketChannel(
                new GatewayChannelInitializer("public", () -> snapshot, services));
        channels.add(ch);
        ch.register();
        return ch;
    }

    /** Handler names in pipeline order, without Netty's own head/tail contexts. */
    private static List<String> names(EmbeddedChannel ch) {
        List<String> names = new ArrayList<>(ch.pipeline().names());
        names.removeIf(n -> n.contains("TailContext") || n.contains("HeadContext"));
        return names;
    }

    /** The order the README documents, written out here so that a change to the code shows. */
    private static final List<String> FULL_ORDER = List.of("conn-limit", "tls", "linger", "raw-watch", "decoder", "encoder",
            "hsts", "flow", "drain", "timeouts", "access-log", "request-id", "client-address", "guard", "router",
            "verify", "proxy", "callback", "errors");

    private static List<String> orderWithout(String... absent) {
        List<String> expected = new ArrayList<>(FULL_ORDER);
        expected.removeAll(List.of(absent));
        return expected;
    }

    @Test
    void tlsListenerWithHstsHasEveryHandlerInOrder() throws Exception {
        // Any SslContext will do for the order: the initializer only asks it for a handler.
        SslContext tls = SslContextBuilder.forClient().build();
        ListenerConfig l = listener(new TlsConfig(Path.of("cert.pem"), Path.of("key.pem"), false),
                options("max-age=63072000", false));
        EmbeddedSocketChannel ch = initialise(new GatewaySnapshot(config(l), Map.of("public", tls)));
        assertEquals(FULL_ORDER, names(ch));
        assertInstanceOf(SslHandler.class, ch.pipeline().get("tls"));
        assertInstanceOf(HstsHandler.class, ch.pipeline().get("hsts"));
        assertTrue(ch.isOpen());
    }

    @Test
    void http2ListenerWaitsForAlpnThenBuildsEitherPipeline() throws Exception {
        SslContext tls = SslContextBuilder.forClient().build();
        ListenerConfig l = listener(new TlsConfig(Path.of("cert.pem"), Path.of("key.pem")),
                options("max-age=63072000", false));
        EmbeddedSocketChannel h1 = initialise(new GatewaySnapshot(config(l), Map.of("public", tls)));
        assertEquals(List.of("conn-limit", "tls", "linger", "alpn"), names(h1));
        ((AlpnSwitch) h1.pipeline().get("alpn")).configure(h1.pipeline().context("alpn"), "http/1.1");
        assertEquals(FULL_ORDER, names(h1));

        EmbeddedSocketChannel h2 = initialise(new GatewaySnapshot(config(l), Map.of("public", tls)));
        ((AlpnSwitch) h2.pipeline().get("alpn")).configure(h2.pipeline().context("alpn"), "h2");
        assertEquals(List.of("conn-limit", "tls", "linger", "h2", "h2-watch", "h2-refusals", "h2-streams", "errors"), names(h2));
        assertInstanceOf(Http2ConnectionWatch.class, h2.pipeline().get("h2-watch"));
    }

    @Test
    void plainListenerHasTheSameOrderWithoutTlsAndHsts() throws Exception {
        ListenerConfig l = listener(null, options("max-age=63072000", false)); // HSTS only applies with TLS
        EmbeddedSocketChannel ch = initialise(new GatewaySnapshot(config(l)));
        assertEquals(orderWithout("tls", "hsts"), names(ch));
        assertInstanceOf(StrictHttpRequestDecoder.class, ch.pipeline().get("decoder"));
        assertInstanceOf(MessagePerReadHandler.class, ch.pipeline().get("flow"));
        assertInstanceOf(SlowClientTimeoutHandler.class, ch.pipeline().get("timeouts"));
        assertInstanceOf(RequestGuardHandler.class, ch.pipeline().get("guard"));
        assertInstanceOf(RouterHandler.class, ch.pipeline().get("router"));
        assertTrue(ch.isOpen());
    }

    @Test
    void redirectListenerEndsWithTheRedirectAfterTheGuard() throws Exception {
        ListenerConfig l = listener(null, options(null, true));
        EmbeddedSocketChannel ch = initialise(new GatewaySnapshot(config(l)));
        assertEquals(List.of("conn-limit", "linger", "raw-watch", "decoder", "encoder", "flow", "drain", "timeouts",
                "access-log", "request-id", "client-address", "guard", "https-redirect", "errors"), names(ch));
        assertInstanceOf(HttpsRedirectHandler.class, ch.pipeline().get("https-redirect"));
        assertFalse(names(ch).contains("router"), "a redirect listener routes nothing");
    }

    @Test
    void adminListenerEndsWithTheAdminHandlerAfterTheGuard() throws Exception {
        ListenerOptions admin = new ListenerOptions(null, false, null, List.of(), null, 0, 0,
                AccessLogFormat.COMBINED, Set.of(), true);
        EmbeddedSocketChannel ch = initialise(new GatewaySnapshot(config(listener(null, admin))));
        assertEquals(List.of("conn-limit", "linger", "raw-watch", "decoder", "encoder", "flow", "drain", "timeouts",
                "access-log", "request-id", "client-address", "guard", "admin", "errors"), names(ch));
        assertInstanceOf(AdminHandler.class, ch.pipeline().get("admin"));
    }

    @Test
    void connectionForARemovedListenerIsClosed() throws Exception {
        ListenerConfig other = listener(null, options(null, false)).withPort(1);
        GatewayConfig renamed = new GatewayConfig("test", Map.of(), List.of(new ListenerConfig("internal",
                other.host(), other.port(), null, other.routes(), 403, other.limits(), other.options())), Map.of(),
                ServerSettings.DEFAULTS);
        EmbeddedSocketChannel ch = initialise(new GatewaySnapshot(renamed));
        assertFalse(ch.isOpen());
        assertEquals(List.of(), names(ch));
    }
}
