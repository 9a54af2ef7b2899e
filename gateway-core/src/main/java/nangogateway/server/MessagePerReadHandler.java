package nangogateway.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Hands decoded messages on exactly one per {@code read()} from downstream. The decoder may turn one socket read
 * into several messages (a pipelined request, a head plus body chunks); they wait here until the handler that
 * owns the exchange asks for the next one. A {@code read()} with nothing queued stays owed until a message
 * arrives (unlike Netty's FlowControlHandler, a read-complete event does not cancel it), so a request that
 * arrives in a later socket read still gets through.
 */
public final class MessagePerReadHandler extends ChannelDuplexHandler {
    private final ArrayDeque<Object> queue = new ArrayDeque<>(4);
    private boolean owed;
    private boolean closed;

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (closed) {
            return; // the connection is ending: a request pipelined behind its last answer is never served
        }
        Object next = queue.poll();
        if (next != null) {
            ctx.fireChannelRead(next);
            return;
        }
        owed = true;
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closed) {
            ReferenceCountUtil.release(msg);
        } else if (owed && queue.isEmpty()) {
            owed = false;
            ctx.fireChannelRead(msg);
        } else {
            queue.add(msg);
        }
    }

    /**
     * A close asked for further in ends what waits here at once: the socket may stay open a while after it (a
     * lingering close), and nothing read before the close may be served in that while.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        closed = true;
        drain();
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        drain();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        drain();
    }

    private void drain() {
        Object o;
        while ((o = queue.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }
}
