package nangogateway.proxy;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;
import nangogateway.limits.ByteBudget;
import nangogateway.config.ProxyAction;
import nangogateway.config.WebhookVerify;
import nangogateway.observe.GatewayMetrics;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.RoutedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a webhook's body (up to the route's {@code max_request_body}) until its provider signature is checked;
 * a good request goes on to the proxy with the body byte for byte, a bad, missing or stale signature gets 401 and
 * nothing reaches Nango. Routes without {@code verify:} pass straight through.
 */
public final class WebhookVerifyHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(WebhookVerifyHandler.class);

    private final String listener;
    private final GatewayMetrics metrics;
    private final ByteBudget bodyMemory;
    /** Bytes of the held body counted against the process's budget. */
    private long reserved;
    private RoutedRequest held;
    private WebhookVerify verify;
    private long max;
    private CompositeByteBuf body;
    /** True while a verified request's head and whole body are handed on. */
    private boolean replaying;

    public WebhookVerifyHandler(String listener, GatewayMetrics metrics, ByteBudget bodyMemory) {
        this.listener = listener;
        this.metrics = metrics;
        this.bodyMemory = bodyMemory;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof RoutedRequest r && r.route().action() instanceof ProxyAction p && p.verify() != null) {
            held = r;
            verify = p.verify();
            max = p.maxRequestBody();
            body = ctx.alloc().compositeBuffer(1024);
            if (r.admitted().complete()) {
                check(ctx); // no body follows: the signature is checked over the empty one
            } else {
                ctx.read();
            }
            return;
        }
        if (held != null && msg instanceof HttpContent c) {
            int n = c.content().readableBytes();
            if (body.readableBytes() + (long) n > max) {
                c.release();
                refuse(ctx, 413, "body_too_large");
                return;
            }
            if (!bodyMemory.reserve(n)) {
                // Every connection's held bodies share one budget: a flood of large unsigned bodies gets 503,
                // never an OutOfMemoryError on an event loop.
                c.release();
                unavailable(ctx);
                return;
            }
            reserved += n;
            body.addComponent(true, c.content().retain());
            c.release();
            if (msg instanceof LastHttpContent) {
                check(ctx);
            } else {
                ctx.read();
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void check(ChannelHandlerContext ctx) {
        byte[] bytes = ByteBufUtil.getBytes(body);
        String problem = WebhookSignatures.problem(verify, held.admitted().request().headers(), bytes,
                System.currentTimeMillis() / 1000);
        if (problem != null) {
            refuse(ctx, 401, problem);
            return;
        }
        RoutedRequest r = held;
        CompositeByteBuf b = body;
        held = null;
        body = null;
        returnBudget(); // the proxy counts the body again as it takes it
        var headers = r.admitted().request().headers();
        if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING); // the body is whole now: send it with a length
        }
        headers.setInt(HttpHeaderNames.CONTENT_LENGTH, b.readableBytes());
        replaying = true;
        try {
            ctx.fireChannelRead(r);
            if (r.admitted().complete()) {
                b.release();
            } else {
                ctx.fireChannelRead(new DefaultLastHttpContent(b));
            }
        } finally {
            replaying = false;
        }
    }

    /**
     * While the held body is handed on, the proxy may ask for more of it (it has seen only the head); the body is
     * already whole, so such a read would fetch the next pipelined request ahead of this one's body.
     */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!replaying) {
            ctx.read();
        }
    }

    private void refuse(ChannelHandlerContext ctx, int status, String reason) {
        log.info("{} {}: webhook signature check failed: {}", ctx.channel().remoteAddress(), held.route().name(),
                reason);
        metrics.webhookRejected(listener, held.route().name(), reason);
        release();
        ctx.writeAndFlush(LocalResponses.json(ctx.alloc(), status, status == 401 ? "invalid_signature"
                : "payload_too_large", status == 401 ? "webhook signature " + reason : "webhook body too large"))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private void unavailable(ChannelHandlerContext ctx) {
        log.warn("{} {}: no memory left in server.buffer_memory for a webhook body; 503", ctx.channel().remoteAddress(),
                held.route().name());
        release();
        ctx.writeAndFlush(LocalResponses.retryLater(ctx.alloc())).addListener(ChannelFutureListener.CLOSE);
    }

    private void returnBudget() {
        if (reserved > 0) {
            bodyMemory.release(reserved);
            reserved = 0;
        }
    }

    private void release() {
        returnBudget();
        held = null;
        if (body != null) {
            body.release();
            body = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }
}
