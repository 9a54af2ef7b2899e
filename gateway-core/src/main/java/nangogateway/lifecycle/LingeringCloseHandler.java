package nangogateway.lifecycle;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;

/**
 * Lingering close (nginx's {@code lingering_close}): when the gateway closes a connection after answering, it
 * first ends its own side (TLS {@code close_notify}, then a TCP FIN) and reads and discards what the client still
 * sends, until the client closes too, or sends nothing for {@link #IDLE}, or {@link #MAX} has passed. Closing a
 * socket with unread bytes in it sends a TCP reset instead of a FIN, and a reset makes the client's kernel throw
 * away the answer it has not read yet: a client refused mid-body (413, 503 over the memory budget, a bad
 * signature) would see "connection reset" instead of its answer.
 *
 * <p>For the handlers further in, a lingering connection is closed: they get {@code channelInactive} when it begins,
 * and nothing after (no read, no event; a write fails, a close changes nothing). So a request pipelined behind the
 * last answer is dropped with the rest, never served.
 *
 * <p>Closes that give up on the client are immediate ({@link #closeNow}, {@link #noLingering}): a client too slow to
 * send or to read (the 408 of a slow head too), a response cut short, an HTTP/2 connection's GOAWAY, a response still
 * waiting in the outbound buffer, a TLS handshake not finished, and every close once the gateway is stopping
 * ({@link DrainEvent}). A client's TLS {@code close_notify} ends the lingering as its FIN does.
 * Discarded bytes are released as they arrive; the timers bound how long the connection's slot stays taken.
 */
public final class LingeringCloseHandler extends ChannelDuplexHandler {
    /** nginx's {@code lingering_timeout}: the client sends nothing for this long, the connection closes. */
    public static final Duration IDLE = Duration.ofSeconds(5);
    /** nginx's {@code lingering_time}: however much the client keeps sending, the connection closes by then. */
    public static final Duration MAX = Duration.ofSeconds(30);
    private static final AttributeKey<Boolean> NOW = AttributeKey.valueOf(LingeringCloseHandler.class, "now");
    private static final String DISCARD = "linger-discard";
    private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf(LingeringCloseHandler.class, "closing");

    private final long idleNanos;
    private final long maxNanos;
    private boolean lingering;
    private boolean draining;
    private long deadline;
    private long lastRead;
    private ScheduledFuture<?> timer;

    public LingeringCloseHandler() {
        this(IDLE, MAX);
    }

    LingeringCloseHandler(Duration idle, Duration max) {
        this.idleNanos = idle.toNanos();
        this.maxNanos = max.toNanos();
    }

    /** Closes the connection without lingering: the client is the problem, or there is nothing left to tell it. */
    public static ChannelFuture closeNow(ChannelHandlerContext ctx) {
        noLingering(ctx.channel());
        return ctx.close();
    }

    /** The connection's close, whoever asks for it, will not linger: a client that broke the protocol's limits. */
    public static void noLingering(Channel connection) {
        connection.attr(NOW).set(Boolean.TRUE);
    }

    /** True once the connection lingers: closed for the pipeline, though the socket is still open. */
    public static boolean closing(Channel connection) {
        return connection.attr(CLOSING).get() != null;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Channel ch = ctx.channel();
        if (lingering && !draining && ch.attr(NOW).get() == null) {
            // The handlers further in were told the connection is closed; a close they still ask for changes nothing.
            ch.closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (lingering || draining || !ch.isActive() || !(ch instanceof DuplexChannel duplex)
                || duplex.isInputShutdown() || duplex.isOutputShutdown() || ch.attr(NOW).get() != null
                || unsent(ch) > 0 || (tls != null && !tls.handshakeFuture().isSuccess())) {
            cancelTimer();
            ctx.close(promise);
            return;
        }
        lingering = true;
        ch.attr(CLOSING).set(Boolean.TRUE);
        long now = System.nanoTime();
        deadline = now + maxNanos;
        lastRead = now;
        ch.closeFuture().addListener(f -> promise.trySuccess());
        ChannelFuture sideEnded = tls != null ? tls.closeOutbound() : ch.newSucceededFuture();
        sideEnded.addListener(sent -> {
            if (!sent.isSuccess() || !ch.isActive()) {
                ctx.close();
                return;
            }
            duplex.shutdownOutput().addListener(shut -> {
                if (!shut.isSuccess()) {
                    ctx.close();
                }
            });
        });
        // What the client still sends is dropped as it comes off the socket, before TLS (as nginx does once its TLS
        // side is shut): not decrypted, and never held by the TLS handler, whose engine may take no more input once
        // close_notify is sent (BoringSSL's does not).
        ch.pipeline().addFirst(DISCARD, new Discard());
        schedule(ctx, idleNanos);
        ctx.read(); // from here toward the socket only: a read from the pipeline's tail would reach queued requests
        // For every handler further in, the connection is closed now, as nginx frees a request before it lingers:
        // they end what they hold (a pipelined request already decoded, timers, HTTP/2 streams) and are sent nothing
        // more. Later, as Netty does for a real close, so that no handler is told while it is still asking.
        ctx.executor().execute(ctx::fireChannelInactive);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!lingering) {
            ctx.flush();
        }
    }

    /** First in the pipeline while lingering: every byte read is released at once, and the next read asked for. */
    private final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            lastRead = System.nanoTime();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!ctx.channel().config().isAutoRead()) {
                ctx.read();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset or a read error: nothing more to wait for (from the head: a real close)
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            lastRead = System.nanoTime();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!lingering) {
            ctx.fireChannelReadComplete();
        } else if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof DrainEvent) {
            draining = true;
            if (lingering) {
                ctx.close();
                return;
            }
        }
        if (!lingering) {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (lingering) {
            ctx.close(); // the client reset or broke TLS while we waited for it: nothing more to tell it
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        if (!lingering) {
            ctx.fireChannelInactive(); // a lingering connection's handlers were told when it began
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!lingering) {
            ctx.fireChannelWritabilityChanged();
        }
    }

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> check(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        long left = Math.min(deadline - now, lastRead + idleNanos - now);
        if (left <= 0) {
            ctx.close();
            return;
        }
        schedule(ctx, left);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Flushed writes still waiting for the client: a client that does not read them gets no lingering. */
    private static long unsent(Channel ch) {
        // Counted in messages: a write's listener runs before its bytes leave the buffer's byte count.
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.size();
    }
}
