package nangogateway.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

/**
 * The whole pipeline of an HTTP/2 stream opened over a connection cap: it is answered 503 with {@code Retry-After}
 * (what nginx's {@code limit_conn} answers an HTTP/2 request over its limit) and closed, and none of its frames is
 * read. Not a reset: Netty caps the resets a connection may be sent (200 in 30 s, against MadeYouReset) and ends
 * the connection past that, which would take the client's other streams with it; a client that keeps hitting its
 * cap gets 503s and keeps its connection. A request that has ended (a GET) closes with the answer, no reset sent; one
 * whose body is still coming is then reset, which counts.
 *
 * <p>The stream reads with auto-read on: its frames are dropped as they come, and a stream closes only once nothing
 * of it waits to be read.
 */
@ChannelHandler.Sharable
final class RefusedStream extends ChannelInboundHandlerAdapter {
    static final RefusedStream INSTANCE = new RefusedStream();
    private static final AsciiString STATUS = AsciiString.cached("503");
    private static final AsciiString RETRY_AFTER = AsciiString.cached("retry-after");
    private static final AsciiString ONE = AsciiString.cached("1");

    private RefusedStream() {
    }

    /**
     * The stream turns active while the codec is still taking its HEADERS: an answer written there can complete (and
     * close the stream) before the codec is done with that frame, which it then finds on a closed stream and resets
     * with STREAM_CLOSED. The answer goes after the socket read instead.
     */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.executor().execute(() -> answer(ctx));
    }

    private static void answer(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            return; // reset by the client in the same read
        }
        Http2Headers headers = new DefaultHttp2Headers(false).status(STATUS).add(RETRY_AFTER, ONE);
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true)).addListener(f -> {
            if (!f.isSuccess() || ((Http2StreamChannel) ctx.channel()).stream().state() == Http2Stream.State.OPEN) {
                ctx.close(); // the client is still sending: the stream is reset
            }
            // else the client's END_STREAM has come: with the answer written, the stream closes on its own
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // the stream is being refused: nothing to tell anyone
    }
}
