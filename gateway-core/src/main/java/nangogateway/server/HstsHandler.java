package nangogateway.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;

/** Adds {@code Strict-Transport-Security} to every response of a TLS listener, error responses included. */
@ChannelHandler.Sharable
public final class HstsHandler extends ChannelOutboundHandlerAdapter {
    private final String value;

    public HstsHandler(String value) {
        this.value = value;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r) {
            mark(r, value);
        }
        ctx.write(msg, promise);
    }

    /** Adds the header {@code value} to a final (non-1xx) response. */
    static void mark(HttpResponse r, String value) {
        if (r.status().code() >= 200) {
            r.headers().set("Strict-Transport-Security", value);
        }
    }
}
