package nangogateway.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.List;
import java.util.function.Supplier;
import nangogateway.config.ListenerConfig;
import nangogateway.lifecycle.ConnectionDrainHandler;
import nangogateway.observe.AccessLogHandler;
import nangogateway.observe.RequestIdHandler;
import nangogateway.proxy.CallbackReplayHandler;
import nangogateway.proxy.ProxyHandler;
import nangogateway.upstream.UpstreamPools;

/**
 * The client-side pipeline, in one readable place:
 * <pre>
 * [tls] → raw-watch → decoder / encoder → flow → drain → timeouts → access-log → request-id → guard → router → proxy → callback
 * </pre>
 * {@code flow} hands decoded messages on one per {@code read()}, which is what makes back-pressure and
 * in-order pipelining hold: the next request is not even looked at until the current response is done.
 * The listener's settings (limits, TLS context) are taken from the snapshot current when the connection is
 * accepted, so a reload applies to new connections.
 */
public final class GatewayChannelInitializer extends ChannelInitializer<SocketChannel> {
    public static final List<String> ORDER = List.of("tls", "raw-watch", "decoder", "encoder", "flow", "drain",
            "timeouts", "access-log", "request-id", "guard", "router", "proxy", "callback");

    private final String listenerName;
    private final Supplier<GatewaySnapshot> snapshots;
    private final UpstreamPools pools;

    public GatewayChannelInitializer(String listenerName, Supplier<GatewaySnapshot> snapshots, UpstreamPools pools) {
        this.listenerName = listenerName;
        this.snapshots = snapshots;
        this.pools = pools;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        GatewaySnapshot snapshot = snapshots.get();
        ListenerConfig listener = snapshot.config().listener(listenerName).orElse(null);
        if (listener == null) {
            ch.close(); // removed by a reload while this connection was being accepted
            return;
        }
        ChannelPipeline p = ch.pipeline();
        addTls(p, snapshot, ch);
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(listener.limits());
        p.addLast("raw-watch", timeouts.rawWatcher());
        addHttpCodec(p, listener);
        p.addLast("flow", new MessagePerReadHandler());
        p.addLast("drain", new ConnectionDrainHandler());
        p.addLast("timeouts", timeouts);
        p.addLast("access-log", new AccessLogHandler(listener.name()));
        p.addLast("request-id", new RequestIdHandler());
        p.addLast("guard", new RequestGuardHandler());
        p.addLast("router", new RouterHandler(listener.name(), snapshots));
        addActions(p, listener);
    }

    private void addTls(ChannelPipeline p, GatewaySnapshot snapshot, SocketChannel ch) {
        io.netty.handler.ssl.SslContext tls = snapshot.tls(listenerName);
        if (tls != null) {
            p.addLast("tls", tls.newHandler(ch.alloc()));
        }
    }

    private static void addHttpCodec(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("decoder", new StrictHttpRequestDecoder(listener.limits()));
        p.addLast("encoder", new HttpResponseEncoder());
    }

    private void addActions(ChannelPipeline p, ListenerConfig listener) {
        p.addLast("proxy", new ProxyHandler(pools, listener.scheme()));
        p.addLast("callback", new CallbackReplayHandler(pools, listener.scheme()));
    }
}
