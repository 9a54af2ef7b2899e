package nangogateway.server;

import nangogateway.exchange.GatewaySnapshot;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerOptions;
import nangogateway.lifecycle.ConnectionDrainHandler;
import nangogateway.observe.AccessLogHandler;
import nangogateway.observe.RequestIdHandler;
import nangogateway.proxy.CallbackReplayHandler;
import nangogateway.proxy.ProxyHandler;
import nangogateway.proxy.WebhookVerifyHandler;

/**
 * The client-side pipeline, in one readable place:
 * <pre>
 * conn-limit → [tls] → raw-watch → decoder / encoder → [hsts] → flow → drain → timeouts → access-log →
 * request-id → client-address → guard → router → verify → proxy → callback → errors
 *                                      (or guard → https-redirect, or guard → admin)
 * </pre>
 * {@code flow} hands decoded messages on one per {@code read()}, which is what makes back-pressure and
 * in-order pipelining hold: the next request is not even looked at until the current response is done.
 * The listener's settings (limits, TLS context, options) are taken from the snapshot current when the
 * connection is accepted, so a reload applies to new connections; routes and trusted proxies are read from the
 * current snapshot at each request.
 */
public final class GatewayChannelInitializer extends ChannelInitializer<SocketChannel> {
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
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(listener.limits());
        p.addLast("raw-watch", timeouts.rawWatcher());
        addHttpCodec(p, listener);
        addHsts(p, listener);
        p.addLast("flow", new MessagePerReadHandler());
        p.addLast("drain", new ConnectionDrainHandler());
        p.addLast("timeouts", timeouts);
        addObservers(p, listener);
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

    private void addObservers(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("access-log", new AccessLogHandler(listener.name(), listener.options().accessLogFormat(),
                listener.options().redactParams(), services.metrics()));
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
