package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.RoutedRequest;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.exchange.LocalAnswer;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.Refusal;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.function.Supplier;
import nangogateway.config.CallbackAction;
import nangogateway.config.ProxyAction;
import nangogateway.config.MetricsAction;
import nangogateway.config.RateLimit;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteConfig;
import nangogateway.http.Http1;
import nangogateway.limits.ConnectionLimitHandler;
import nangogateway.limits.RateLimiter;
import nangogateway.observe.GatewayMetrics;
import nangogateway.routing.RouteDecision;
import nangogateway.routing.RouteTable;

/**
 * Applies the listener's route table to each admitted request, using the config snapshot current when the
 * request arrived. Denied requests (403/405 or {@code otherwise}, 501 for a method Node cannot read on a route
 * that takes every method) and {@code respond} routes are answered here and never open an upstream connection;
 * requests for {@code proxy} and {@code callback} routes go on as a
 * {@link RoutedRequest}, followed by their body. {@code Expect: 100-continue} is answered only once a route
 * admitted the request and its declared length fits.
 */
public final class RouterHandler extends ChannelInboundHandlerAdapter {
    private enum State { IDLE, FORWARDING, DISCARDING }

    private final String listenerName;
    private final Supplier<GatewaySnapshot> snapshots;
    private final RateLimiter rateLimiter;
    private final GatewayMetrics metrics;
    private State state = State.IDLE;
    private RequestFacts facts;
    private ChannelHandlerContext ctx;
    /** One listener per connection, not one per answered request. */
    private final NextRequestGate afterLocalResponse = new NextRequestGate(this::readNext);

    public RouterHandler(String listenerName, Supplier<GatewaySnapshot> snapshots, RateLimiter rateLimiter,
            GatewayMetrics metrics) {
        this.listenerName = listenerName;
        this.snapshots = snapshots;
        this.rateLimiter = rateLimiter;
        this.metrics = metrics;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        facts = RequestFacts.of(ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof AdmittedRequest admitted) {
            route(ctx, admitted);
        } else if (msg instanceof HttpContent content) {
            boolean last = msg instanceof LastHttpContent;
            switch (state) {
                case FORWARDING -> {
                    if (last) {
                        state = State.IDLE;
                    }
                    ctx.fireChannelRead(msg);
                }
                case DISCARDING -> {
                    content.release();
                    if (last) {
                        afterLocalResponse.requestEnded();
                    } else {
                        ctx.read();
                    }
                }
                default -> content.release();
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void route(ChannelHandlerContext ctx, AdmittedRequest admitted) {
        HttpRequest request = admitted.request();
        GatewaySnapshot snapshot = snapshots.get();
        RouteTable table = snapshot.table(listenerName);
        if (table == null) {
            facts.route("listener removed");
            answer(ctx, admitted, LocalResponses.text(ctx.alloc(), 503, true));
            return;
        }
        boolean overCap = ConnectionLimitHandler.overCap(ctx.channel());
        RouteDecision decision = overCap ? null
                : table.decide(request.method().name(), admitted.target(), request.headers());
        FullHttpResponse refused = refusal(ctx.alloc(), table, decision, overCap, facts);
        if (refused != null) {
            answer(ctx, admitted, refused);
            return;
        }
        RouteDecision.Matched m = (RouteDecision.Matched) decision;
        facts.route(m.route().name());
        var action = m.route().action();
        if (action instanceof RespondAction r) {
            answer(ctx, admitted, respond(ctx, r));
        } else if (action instanceof MetricsAction) {
            answer(ctx, admitted, LocalResponses.build(ctx.alloc(), HttpResponseStatus.OK, metrics.render(),
                    "text/plain; version=0.0.4; charset=utf-8", false));
        } else if (action instanceof ProxyAction p) {
            forward(ctx, admitted, m.route(), m.params(), snapshot, p.maxRequestBody());
        } else if (action instanceof CallbackAction) {
            forward(ctx, admitted, m.route(), m.params(), snapshot, 0);
        }
    }

    /**
     * The router's refusals, in order: 503 for a stream over a connection cap (not a reset: Netty ends a connection
     * that is sent 200 resets in 30 s, against MadeYouReset, which would take the client's other streams with it;
     * nginx's limit_conn answers 503 too), 429 with {@code Retry-After} over the route's own rate limit or the
     * listener's, 405 with {@code Allow} for another method of a route, and the listener's {@code otherwise} for a
     * request no route takes. Null when {@code decision} matched a route and no limit refuses it. The refusal is
     * recorded in {@code facts}, whose client address is the rate limit's key. Also what an HTTP/2 connection
     * answers without a stream pipeline ({@link Http2RefusalHandler}).
     */
    FullHttpResponse refusal(ByteBufAllocator alloc, RouteTable table, RouteDecision decision, boolean overCap,
            RequestFacts facts) {
        if (overCap) {
            facts.deny("connection-limit", Refusal.CONNECTION_LIMIT);
            return LocalResponses.retryLater(alloc, false);
        }
        RouteConfig route = decision instanceof RouteDecision.Matched m ? m.route() : null;
        RateLimit limit = route != null && route.rateLimit() != null ? route.rateLimit()
                : table.listener().options().rateLimit();
        if (limit != null) {
            String scope = listenerName + "/" + (route != null && route.rateLimit() != null ? route.name() : "*");
            String client = facts.resolvedClientAddress();
            long wait = rateLimiter.acquire(scope, client == null ? "unknown" : client, limit);
            if (wait != 0) {
                metrics.rateLimited(listenerName);
                FullHttpResponse r = LocalResponses.text(alloc, 429, false);
                r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(wait));
                facts.deny("rate-limited", Refusal.RATE_LIMITED);
                return r;
            }
        }
        if (decision instanceof RouteDecision.MethodNotAllowed na) {
            FullHttpResponse r = LocalResponses.text(alloc, 405, false);
            r.headers().set(HttpHeaderNames.ALLOW, String.join(", ", na.allow()));
            facts.deny("method-not-allowed", Refusal.METHOD);
            return r;
        }
        if (decision instanceof RouteDecision.Otherwise o) {
            facts.deny("otherwise", Refusal.NOT_ALLOWLISTED);
            return LocalResponses.text(alloc, o.status(), false);
        }
        return null;
    }

    private void forward(ChannelHandlerContext ctx, AdmittedRequest admitted, RouteConfig route,
            Map<String, String> params, GatewaySnapshot snapshot, long maxBody) {
        if (!Http1.NODE_METHODS.contains(admitted.request().method().name())) {
            // A route that takes every method still never sends Node one its parser cannot read: Node would drop
            // the connection (or, for CONNECT, read what follows as a tunnel).
            facts.deny("method-not-implemented", Refusal.METHOD);
            answer(ctx, admitted, LocalResponses.text(ctx.alloc(), 501, false));
            return;
        }
        if (admitted.contentLength() > maxBody && admitted.hasBody()) {
            answer(ctx, admitted, LocalResponses.text(ctx.alloc(), 413, true));
            return;
        }
        if (HttpUtil.is100ContinueExpected(admitted.request())) {
            admitted.request().headers().remove(HttpHeaderNames.EXPECT);
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        state = admitted.complete() ? State.IDLE : State.FORWARDING;
        ctx.fireChannelRead(new RoutedRequest(admitted, route, params, snapshot));
    }

    private static FullHttpResponse respond(ChannelHandlerContext ctx, RespondAction r) {
        FullHttpResponse response = LocalResponses.build(ctx.alloc(), HttpResponseStatus.valueOf(r.status()),
                r.body(), "text/plain; charset=utf-8", false);
        if (r.body().isEmpty()) {
            response.headers().remove(HttpHeaderNames.CONTENT_TYPE);
        }
        if (r.status() == 204 || r.status() == 304) {
            response.headers().remove(HttpHeaderNames.CONTENT_LENGTH); // RFC 9110 8.6: never on 204, not needed on 304
        }
        r.headers().forEach((k, v) -> response.headers().set(k, v));
        return response;
    }

    /**
     * Answers locally. A request whose body is still on the wire is answered with {@code Connection: close}
     * rather than read and discarded, so a denied upload costs nothing; a bodiless request keeps the connection.
     */
    private void answer(ChannelHandlerContext ctx, AdmittedRequest admitted, FullHttpResponse response) {
        state = State.DISCARDING;
        if (LocalAnswer.prepare(admitted, response, false)) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        afterLocalResponse.answering(admitted.complete());
        ctx.writeAndFlush(response).addListener(afterLocalResponse);
        if (!admitted.complete()) {
            ctx.read(); // fetch the (empty) end of the request
        }
    }

    private void readNext() {
        if (state == State.DISCARDING) {
            state = State.IDLE;
            ctx.read();
        }
    }
}
