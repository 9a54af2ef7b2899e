package nangogateway.server;

import nangogateway.exchange.GatewaySnapshot;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.AsciiString;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ListenerOptions;
import nangogateway.limits.ConnectionLimitHandler;
import nangogateway.lifecycle.ConnectionDrainHandler;
import nangogateway.lifecycle.LingeringCloseHandler;
import nangogateway.observe.AccessLogHandler;
import nangogateway.observe.RequestIdHandler;
import nangogateway.proxy.CallbackReplayHandler;
import nangogateway.proxy.ProxyHandler;
import nangogateway.proxy.WebhookVerifyHandler;

/**
 * The client-side pipeline, in one readable place:
 * <pre>
 * conn-limit → [tls] → linger → raw-watch → decoder / encoder → [hsts] → flow → drain → timeouts → access-log →
 * request-id → client-address → guard → router → verify → proxy → callback → errors
 *                                      (or guard → https-redirect, or guard → admin)
 *
 * HTTP/2 (a TLS listener, ALPN h2): conn-limit → tls → linger → [alpn] → h2 (frame codec) → h2-watch → h2-refusals →
 * h2-streams → errors, and in each stream's own channel (for every request h2-refusals does not answer itself):
 *      h2-stream → [hsts] → flow → timeouts → access-log → request-id → client-address → guard → router → ...
 * </pre>
 * {@code flow} hands decoded messages on one per {@code read()}, which is what makes back-pressure and
 * in-order pipelining hold: the next request is not even looked at until the current response is done.
 * The listener's settings (limits, TLS context, options) are taken from the snapshot current when the
 * connection is accepted, so a reload applies to new connections; routes and trusted proxies are read from the
 * current snapshot at each request.
 */
public final class GatewayChannelInitializer extends ChannelInitializer<SocketChannel> {
    /**
     * Response fields HPACK never puts in the connection's table (RFC 7541 section 7.1.3): cookies and redirect
     * targets, which may carry secrets a compression side channel could guess at, and values unique to each response
     * (the request id, the date), which would only push useful entries out of the table and cost an insertion and an
     * eviction per response; and authentication challenges.
     */
    static final Http2HeadersEncoder.SensitivityDetector NEVER_INDEXED = (name, value) ->
            AsciiString.contentEqualsIgnoreCase(name, "set-cookie")
                    || AsciiString.contentEqualsIgnoreCase(name, "x-request-id")
                    || AsciiString.contentEqualsIgnoreCase(name, "location")
                    || AsciiString.contentEqualsIgnoreCase(name, "date")
                    || AsciiString.contentEqualsIgnoreCase(name, "www-authenticate");
    /** Streams a client may have open at once on one HTTP/2 connection (nginx: 128); more are refused. */
    static final int HTTP2_MAX_STREAMS = 100;
    /**
     * Each stream's receive window: what a client may send of a body before the gateway has read it. The connection's
     * window stays at the protocol's 64 KiB, so a connection holds at most that much unread body in all.
     */
    static final int HTTP2_STREAM_WINDOW = 65_535;
    /** Control frames (PING and SETTINGS answers) queued for a client that does not read them. */
    static final int HTTP2_MAX_QUEUED_CONTROL_FRAMES = 1000;
    /** Rapid Reset (CVE-2023-44487): streams a client may reset in a window. */
    static final int HTTP2_MAX_RESETS = 200;
    static final int HTTP2_RESET_WINDOW_SECONDS = 30;
    /** CONTINUATION flood (CVE-2024-27316): small CONTINUATION frames allowed in one header block. */
    static final int HTTP2_MAX_SMALL_CONTINUATIONS = 16;

    private final String listenerName;
    private final Supplier<GatewaySnapshot> snapshots;
    private final GatewayServices services;

    public GatewayChannelInitializer(String listenerName, Supplier<GatewaySnapshot> snapshots,
            GatewayServices services) {
        this.listenerName = listenerName;
        this.snapshots = snapshots;
        this.services = services;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        GatewaySnapshot snapshot = snapshots.get();
        ListenerConfig listener = snapshot.config().listener(listenerName).orElse(null);
        if (listener == null) {
            ch.close(); // removed by a reload while this connection was being accepted
            return;
        }
        ListenerOptions options = listener.options();
        ChannelPipeline p = ch.pipeline();
        addConnectionLimit(p, options);
        addTls(p, snapshot.tls(listenerName), ch);
        p.addLast("linger", new LingeringCloseHandler());
        if (offersHttp2(listener)) {
            p.addLast("alpn", new AlpnSwitch(h1 -> addHttp1(h1, listener), h2 -> addHttp2(h2, listener)));
            return;
        }
        addHttp1(p, listener);
    }

    /** HTTP/2 is offered (ALPN) on a TLS listener that routes requests and has not turned it off. */
    static boolean offersHttp2(ListenerConfig listener) {
        ListenerOptions options = listener.options();
        return listener.tls() != null && listener.tls().http2() && !options.admin() && !options.redirectToHttps();
    }

    /** Everything after TLS for an HTTP/1.1 connection. */
    private void addHttp1(ChannelPipeline p, ListenerConfig listener) {
        ListenerOptions options = listener.options();
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(listener.limits());
        p.addLast("raw-watch", timeouts.rawWatcher());
        addHttpCodec(p, listener);
        addHsts(p, listener);
        p.addLast("flow", new MessagePerReadHandler());
        p.addLast("drain", new ConnectionDrainHandler());
        p.addLast("timeouts", timeouts);
        addObservers(p, listener, new AccessLogHandler(listener.name(), options.accessLogFormat(),
                options.redactParams(), services.metrics()));
        p.addLast("guard", new RequestGuardHandler());
        if (options.admin()) {
            p.addLast("admin", new AdminHandler(snapshots, services.metrics(), services.transport()));
            p.addLast("errors", ConnectionErrorHandler.INSTANCE);
            return;
        }
        if (options.redirectToHttps()) {
            p.addLast("https-redirect", new HttpsRedirectHandler(options.acmeWebroot()));
            p.addLast("errors", ConnectionErrorHandler.INSTANCE);
            return;
        }
        addRouting(p, listener);
    }

    /**
     * Everything after TLS for an HTTP/2 connection: the frame codec with its limits, the connection's own rules,
     * and one child channel per stream, whose pipeline is the HTTP/1.1 one from the flow handler on.
     */
    private void addHttp2(ChannelPipeline p, ListenerConfig listener) {
        ListenerLimits limits = listener.limits();
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(HTTP2_MAX_STREAMS)
                        .maxHeaderListSize((long) limits.maxRequestLine() + limits.maxHeaderBlock())
                        .initialWindowSize(HTTP2_STREAM_WINDOW)
                        .headerTableSize(4096))
                .validateHeaders(true)
                .headerSensitivityDetector(NEVER_INDEXED)
                .decoupleCloseAndGoAway(true)
                .encoderEnforceMaxQueuedControlFrames(HTTP2_MAX_QUEUED_CONTROL_FRAMES)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
                .decoderEnforceMaxRstFramesPerWindow(HTTP2_MAX_RESETS, HTTP2_RESET_WINDOW_SECONDS)
                .decoderEnforceMaxSmallContinuationFrames(HTTP2_MAX_SMALL_CONTINUATIONS)
                .build();
        p.addLast("h2", codec);
        p.addLast("h2-watch", new Http2ConnectionWatch(listener.name(), limits, services.metrics(),
                codec.connection()));
        // The handler this connection was counted by (asking the services for it again would write back the caps of
        // the configuration this connection was accepted under, over a reload that came during its handshake).
        ConnectionLimitHandler caps = (ConnectionLimitHandler) p.get("conn-limit");
        InetAddress client = p.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        Http2RefusalHandler refusals = new Http2RefusalHandler(listener, snapshots, services, codec.connection(),
                caps, client);
        p.addLast("h2-refusals", refusals);
        p.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.config().setAutoRead(false);
                if (caps.acquireStream(client)) {
                    stream.closeFuture().addListener(f -> caps.releaseStream(client));
                } else {
                    ConnectionLimitHandler.markOverCap(stream); // answered 503 by the router, logged as any refusal
                }
                addStream(stream.pipeline(), listener, refusals);
            }
        }));
        p.addLast("errors", ConnectionErrorHandler.INSTANCE);
    }

    /** One HTTP/2 stream: frames in and out, then the HTTP/1.1 pipeline's handlers (no decoder, no drain). */
    private void addStream(ChannelPipeline p, ListenerConfig listener, Http2RefusalHandler refusals) {
        p.addLast("h2-stream", new Http2StreamAdapter(listener.limits().maxRequestLine(),
                listener.limits().maxHeaders(), refusals));
        addHsts(p, listener);
        p.addLast("flow", new MessagePerReadHandler());
        p.addLast("timeouts", new SlowClientTimeoutHandler(listener.limits()));
        addObservers(p, listener, new AccessLogHandler(refusals.accessLog()));
        p.addLast("guard", new RequestGuardHandler());
        addRouting(p, listener);
    }

    private void addRouting(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("router", new RouterHandler(listener.name(), snapshots, services.rateLimiter(), services.metrics()));
        addActions(p, listener);
    }

    private void addConnectionLimit(ChannelPipeline p, ListenerOptions options) {
        p.addLast("conn-limit", services.connectionLimits(listenerName, options.maxConnections(),
                options.maxConnectionsPerClient()));
    }

    private static void addTls(ChannelPipeline p, SslContext tls, SocketChannel ch) {
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
    }

    private static void addHttpCodec(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("decoder", new StrictHttpRequestDecoder(listener.limits()));
        p.addLast("encoder", new ClientResponseEncoder());
    }

    private static void addHsts(ChannelPipeline p, ListenerConfig listener) {
        if (listener.tls() != null && listener.options().hsts() != null) {
            p.addLast("hsts", new HstsHandler(listener.options().hsts()));
        }
    }

    private void addObservers(ChannelPipeline p, ListenerConfig listener, AccessLogHandler accessLog) {
        p.addLast("access-log", accessLog);
        p.addLast("request-id", new RequestIdHandler());
        p.addLast("client-address", new ClientAddressHandler(listener.name(), snapshots));
    }

    private void addActions(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("verify", new WebhookVerifyHandler(listener.name(), services.metrics(),
                services.buffers().memory()));
        p.addLast("proxy", new ProxyHandler(services.pools(), listener.scheme(), services.buffers()));
        p.addLast("callback", new CallbackReplayHandler(services.pools(), listener.scheme()));
        p.addLast("errors", ConnectionErrorHandler.INSTANCE);
    }
}
