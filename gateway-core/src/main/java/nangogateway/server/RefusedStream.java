package nangogateway.server;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;

/**
 * The whole pipeline of an HTTP/2 stream opened over a connection cap: it is reset with {@code REFUSED_STREAM}
 * (RFC 9113 section 8.7: nothing of the request was processed, so a client may retry it, on this connection or
 * another), and none of its frames is read.
 */
@ChannelHandler.Sharable
final class RefusedStream extends ChannelInboundHandlerAdapter {
    static final RefusedStream INSTANCE = new RefusedStream();

    private RefusedStream() {
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }
}
