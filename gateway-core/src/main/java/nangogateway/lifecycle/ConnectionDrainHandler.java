package nangogateway.lifecycle;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Graceful stop for one connection: on {@link DrainEvent} an idle keep-alive connection closes at once; one with
 * a request in flight finishes it, tells the client {@code Connection: close} if the response has not started,
 * and closes after the last byte.
 */
public final class ConnectionDrainHandler extends ChannelDuplexHandler {
    private boolean inFlight;
    private boolean draining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            inFlight = true;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (draining && msg instanceof HttpResponse r && r.status().code() >= 200) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        boolean last = msg instanceof LastHttpContent && !(msg instanceof HttpResponse r && r.status().code() < 200);
        if (last) {
            inFlight = false;
            if (draining) {
                promise.addListener(ChannelFutureListener.CLOSE);
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof DrainEvent) {
            draining = true;
            if (!inFlight) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
