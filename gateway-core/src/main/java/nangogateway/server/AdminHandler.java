package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.LocalResponses;
import nangogateway.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import nangogateway.config.UpstreamConfig;
import nangogateway.observe.GatewayMetrics;

/**
 * The admin listener: {@code /healthz} (the process answers), {@code /readyz} (every upstream accepts a TCP
 * connection within its connect timeout; the listeners were all bound before the gateway reported ready) and {@code /metrics} (Prometheus text). Nothing
 * else; every answer closes the connection, which keeps this tiny surface simple.
 */
public final class AdminHandler extends ChannelInboundHandlerAdapter {
    private final Supplier<GatewaySnapshot> snapshots;
    private final GatewayMetrics metrics;
    private final Transport transport;

    public AdminHandler(Supplier<GatewaySnapshot> snapshots, GatewayMetrics metrics, Transport transport) {
        this.snapshots = snapshots;
        this.metrics = metrics;
        this.transport = transport;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpContent c) {
            c.release(); // bodies are not read; the answer closes the connection
            if (!(msg instanceof LastHttpContent)) {
                ctx.read();
            }
            return;
        }
        if (!(msg instanceof AdmittedRequest a)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (!a.complete()) {
            ctx.read(); // the end of the request, discarded above
        }
        String path = a.target().path();
        boolean get = a.request().method().equals(HttpMethod.GET) || a.request().method().equals(HttpMethod.HEAD);
        RequestFacts.of(ctx.channel()).route("admin");
        if (!get) {
            FullHttpResponse r = LocalResponses.text(ctx.alloc(), 405, true);
            r.headers().set(HttpHeaderNames.ALLOW, AdminPath.ALLOW);
            send(ctx, a, r);
        } else if (path.equals(AdminPath.HEALTHZ.path())) {
            send(ctx, a, LocalResponses.build(ctx.alloc(), HttpResponseStatus.OK, "ok\n", "text/plain; charset=utf-8", true));
        } else if (path.equals(AdminPath.METRICS.path())) {
            send(ctx, a, LocalResponses.build(ctx.alloc(), HttpResponseStatus.OK, metrics.render(),
                    "text/plain; version=0.0.4; charset=utf-8", true));
        } else if (path.equals(AdminPath.READYZ.path())) {
            probeUpstreams(ctx, a);
        } else {
            send(ctx, a, LocalResponses.text(ctx.alloc(), 404, true));
        }
    }

    /** Opens (and closes) one TCP connection per upstream on this event loop; answers when all have settled. */
    private void probeUpstreams(ChannelHandlerContext ctx, AdmittedRequest a) {
        Map<String, UpstreamConfig> upstreams = new TreeMap<>(snapshots.get().config().upstreams());
        Map<String, String> results = new TreeMap<>();
        if (upstreams.isEmpty()) {
            answerReadiness(ctx, a, results);
            return;
        }
        for (UpstreamConfig u : upstreams.values()) {
            ChannelFuture f = new Bootstrap().group(ctx.channel().eventLoop()).channel(transport.clientChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) u.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            // a connect probe only
                        }
                    })
                    .connect(u.host(), u.port());
            f.addListener((ChannelFutureListener) done -> {
                results.put(u.name(), done.isSuccess() ? "ok" : "unreachable");
                if (done.isSuccess()) {
                    done.channel().close();
                }
                if (results.size() == upstreams.size()) {
                    answerReadiness(ctx, a, results);
                }
            });
        }
    }

    private void answerReadiness(ChannelHandlerContext ctx, AdmittedRequest a, Map<String, String> results) {
        boolean ready = results.values().stream().allMatch("ok"::equals);
        StringBuilder b = new StringBuilder("{\"ready\":").append(ready).append(",\"upstreams\":{");
        String sep = "";
        for (var e : results.entrySet()) {
            b.append(sep).append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
            sep = ",";
        }
        b.append("}}\n");
        send(ctx, a, LocalResponses.build(ctx.alloc(), ready ? HttpResponseStatus.OK
                : HttpResponseStatus.SERVICE_UNAVAILABLE, b.toString(), "application/json", true));
    }

    /** Every admin answer closes the connection; HEAD gets the headers only. */
    private static void send(ChannelHandlerContext ctx, AdmittedRequest a, FullHttpResponse r) {
        LocalAnswer.prepare(a, r, true);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
}
