package nangogateway.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.List;
import java.util.function.Supplier;
import nangogateway.config.ListenerConfig;
import nangogateway.observe.AccessLogHandler;
import nangogateway.proxy.CallbackReplayHandler;
import nangogateway.proxy.ProxyHandler;
import nangogateway.upstream.UpstreamPools;

/**
 * The client-side pipeline, in one readable place:
 * <pre>
 * [tls] → raw-watch → decoder / encoder → flow → timeouts → access-log → guard → router → proxy → callback
 * </pre>
 * {@code flow} hands decoded messages on one per {@code read()}, which is what makes back-pressure and
 * in-order pipelining hold: the next request is not even looked at until the current response is done.
 */
public final class GatewayChannelInitializer extends ChannelInitializer<SocketChannel> {
    public static final List<String> ORDER = List.of(
            "raw-watch", "decoder", "encoder", "flow", "timeouts", "access-log", "guard", "router", "proxy", "callback");

    private final ListenerConfig listener;
    private final Supplier<GatewaySnapshot> snapshots;
    private final UpstreamPools pools;

    public GatewayChannelInitializer(ListenerConfig listener, Supplier<GatewaySnapshot> snapshots,
            UpstreamPools pools) {
        this.listener = listener;
        this.snapshots = snapshots;
        this.pools = pools;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ChannelPipeline p = ch.pipeline();
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(listener.limits());
        addTimeoutWatcher(p, timeouts);
        addHttpCodec(p);
        addFlowControl(p);
        addTimeouts(p, timeouts);
        addAccessLog(p);
        addRequestGuard(p);
        addRouter(p);
        addActions(p);
    }

    private void addTimeoutWatcher(ChannelPipeline p, SlowClientTimeoutHandler timeouts) {
        p.addLast("raw-watch", timeouts.rawWatcher());
    }

    private void addHttpCodec(ChannelPipeline p) {
        p.addLast("decoder", new StrictHttpRequestDecoder(listener.limits()));
        p.addLast("encoder", new HttpResponseEncoder());
    }

    private void addFlowControl(ChannelPipeline p) {
        p.addLast("flow", new MessagePerReadHandler());
    }

    private void addTimeouts(ChannelPipeline p, SlowClientTimeoutHandler timeouts) {
        p.addLast("timeouts", timeouts);
    }

    private void addAccessLog(ChannelPipeline p) {
        p.addLast("access-log", new AccessLogHandler(listener.name()));
    }

    private void addRequestGuard(ChannelPipeline p) {
        p.addLast("guard", new RequestGuardHandler());
    }

    private void addRouter(ChannelPipeline p) {
        p.addLast("router", new RouterHandler(listener.name(), snapshots));
    }

    private void addActions(ChannelPipeline p) {
        p.addLast("proxy", new ProxyHandler(pools, listener.scheme()));
        p.addLast("callback", new CallbackReplayHandler(pools, listener.scheme()));
    }
}
