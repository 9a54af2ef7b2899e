package nangogateway.upstream;

import nangogateway.lifecycle.FatalErrors;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of every upstream connection. While a request owns the connection it hands every event to
 * that request's {@link Listener}; while the connection sits idle in the pool, anything Nango sends (or a close)
 * means the connection is no longer reusable, so it is closed and forgotten.
 */
public final class UpstreamChannelHandler extends ChannelInboundHandlerAdapter {
    public static final String NAME = "upstream";

    /** What a request that leases the connection sees of it. */
    public interface Listener {
        void upstreamRead(Object msg);

        void upstreamReadComplete();

        void upstreamWritabilityChanged(boolean writable);

        void upstreamClosed(Throwable cause);
    }

    private Listener listener;
    private Throwable failure;

    void attach(Listener l) {
        this.listener = l;
        this.failure = null;
    }

    void detach() {
        this.listener = null;
    }

    /** Whether an exchange owns the connection now. */
    boolean attached() {
        return listener != null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (listener != null) {
            listener.upstreamRead(msg);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.upstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.upstreamWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Listener l = listener;
        listener = null;
        if (l != null) {
            l.upstreamClosed(failure);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.exitIfFatal(cause);
        if (failure == null) {
            failure = cause;
        }
        ctx.close();
    }
}
