package nangogateway.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import nangogateway.lifecycle.LingeringCloseHandler;
import nangogateway.config.ListenerLimits;
import nangogateway.lifecycle.DrainEvent;
import nangogateway.observe.GatewayMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection-wide rules of an HTTP/2 connection, which no stream owns:
 * <ul>
 *   <li>a connection without an open stream is closed (GOAWAY {@code NO_ERROR}) after {@code header_timeout} until
 *       its first stream, {@code keepalive_timeout} after that: a client holds a connection only while it uses it;</li>
 *   <li>on drain, GOAWAY {@code NO_ERROR} at once (the client opens no new stream here), and the connection closes
 *       when its last stream is done;</li>
 *   <li>PING and SETTINGS frames beyond {@value #CONTROL_FRAMES} in {@value #CONTROL_WINDOW_SECONDS} s close the
 *       connection with GOAWAY {@code ENHANCE_YOUR_CALM}: answering them costs the gateway, and a browser sends a
 *       handful. (Netty's codec bounds the rest: rapid reset, CONTINUATION and empty-frame floods, the queue of
 *       unanswered control frames, header list size; each ends in a GOAWAY too.)</li>
 *   <li>a connection error the codec found is left to the codec, which sends its GOAWAY and then closes;</li>
 *   <li>every GOAWAY sent is counted by error code, so abuse shows in the metrics.</li>
 * </ul>
 * Per-stream clocks (body, send) are the stream pipeline's {@link SlowClientTimeoutHandler} (for a refusal answered
 * on the connection, {@link Http2RefusalHandler}'s send clock).
 */
final class Http2ConnectionWatch extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(Http2ConnectionWatch.class);
    static final int CONTROL_FRAMES = 1000;
    static final int CONTROL_WINDOW_SECONDS = 10;

    private final String listener;
    private final GatewayMetrics metrics;
    private final Http2Connection connection;
    private final long headerNanos;
    private final long keepaliveNanos;
    private final long sendNanos;
    private final long tick;
    /** Bytes waiting in the connection's socket queue at the last check, and when they last went down. */
    private long lastPending;
    private long sendProgressAt;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    /** When the connection last had no open stream; 0 while it has one. */
    private long idleSince;
    private boolean streamsSeen;
    private boolean draining;
    private boolean closing;
    private int controlFrames;
    private long controlWindowStart;

    Http2ConnectionWatch(String listener, ListenerLimits limits, GatewayMetrics metrics, Http2Connection connection) {
        this.listener = listener;
        this.metrics = metrics;
        this.connection = connection;
        this.headerNanos = limits.headerTimeout().toNanos();
        this.keepaliveNanos = limits.keepaliveTimeout().toNanos();
        this.sendNanos = limits.sendTimeout().toNanos();
        long shortest = Math.min(headerNanos, keepaliveNanos);
        if (sendNanos > 0) {
            shortest = Math.min(shortest, sendNanos);
        }
        this.tick = Math.max(TimeUnit.MILLISECONDS.toNanos(10), shortest / 2);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        metrics.http2Connection(listener);
        idleSince = now();
        controlWindowStart = idleSince;
        sendProgressAt = idleSince;
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                streamsSeen = true;
                idleSince = 0;
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (connection.numActiveStreams() == 0) {
                    idleSince = now();
                    if (draining) {
                        goAwayAndClose(Http2Error.NO_ERROR);
                    }
                }
            }

            @Override
            public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
                Http2Error e = Http2Error.valueOf(errorCode);
                if (errorCode != Http2Error.NO_ERROR.code()) {
                    // A client that broke the protocol or its limits: its connection is not kept to read what it
                    // still sends (a flood would go on being decrypted for the lingering time).
                    LingeringCloseHandler.noLingering(ctx.channel());
                }
                metrics.http2GoAway(listener, e == null ? "0x" + Long.toHexString(errorCode) : e.name());
            }
        });
        schedule();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2PingFrame || msg instanceof Http2SettingsFrame) {
            ReferenceCountUtil.release(msg); // the codec has answered it already
            long now = now();
            if (now - controlWindowStart > TimeUnit.SECONDS.toNanos(CONTROL_WINDOW_SECONDS)) {
                controlWindowStart = now;
                controlFrames = 0;
            }
            if (++controlFrames > CONTROL_FRAMES) {
                goAwayAndClose(Http2Error.ENHANCE_YOUR_CALM);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * A connection error the codec found (a flood past one of its limits, a window overflow, a frame out of place):
     * the codec sends GOAWAY with the error's code and closes the connection as soon as this returns (RFC 9113
     * section 5.4.1). Handed on, the error handler would close at once, before the GOAWAY is written, and log a
     * client's fault as a warning. Stream errors go on to their streams.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof Http2FrameStreamException) && Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            log.debug("{}: HTTP/2 connection error: {}", ctx.channel().remoteAddress(), cause.toString());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof DrainEvent) {
            draining = true;
            if (connection.numActiveStreams() == 0) {
                goAwayAndClose(Http2Error.NO_ERROR);
            } else if (!connection.goAwaySent()) {
                ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * GOAWAY, then the close once it is written; if a client that reads nothing keeps it from being written, the
     * connection is closed all the same after a short grace (the smaller of {@code send_timeout} and 5 s).
     */
    private void goAwayAndClose(Http2Error error) {
        if (closing) {
            return;
        }
        closing = true;
        LingeringCloseHandler.noLingering(ctx.channel()); // idle, timed out, abusive or drained: nothing to wait for
        if (!ctx.channel().isActive()) {
            return;
        }
        long grace = Math.min(sendNanos > 0 ? sendNanos : Long.MAX_VALUE, TimeUnit.SECONDS.toNanos(5));
        ctx.executor().schedule(() -> {
            ctx.channel().close();
        }, grace, TimeUnit.NANOSECONDS);
        if (connection.goAwaySent()) {
            ctx.close();
        } else {
            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(error)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void schedule() {
        timer = ctx.executor().schedule(this::check, tick, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (!ctx.channel().isActive() || closing) {
            return;
        }
        long now = now();
        if (sendStalled(now)) {
            ctx.channel().close(); // a client that takes nothing: no GOAWAY could reach it either
            return;
        }
        long idle = idleSince;
        if (idle != 0 && now - idle >= (streamsSeen ? keepaliveNanos : headerNanos)) {
            goAwayAndClose(Http2Error.NO_ERROR);
            return;
        }
        schedule();
    }

    /**
     * The connection's own send clock, under its streams' ones: when bytes wait in its socket queue and none has been
     * taken for {@code send_timeout}, the client has stopped reading the connection as a whole (a stream's reset
     * cannot even be written then), and the connection is cut as an HTTP/1.1 one would be.
     */
    private boolean sendStalled(long now) {
        if (sendNanos <= 0) {
            return false;
        }
        var out = ctx.channel().unsafe().outboundBuffer();
        long pending = out == null ? 0 : out.totalPendingWriteBytes();
        if (pending == 0 || pending < lastPending) {
            sendProgressAt = now;
        }
        lastPending = pending;
        return pending > 0 && now - sendProgressAt >= sendNanos;
    }

    /**
     * One flush per socket read, after the streams have handled it. Netty's multiplexer flushes after a read only for
     * streams left wanting to read on; a stream with auto-read off (every stream here) that answers within the read
     * has its flush skipped while the read is in progress, and its answer would wait for some later flush (tens to
     * hundreds of milliseconds under load).
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
        ctx.flush();
    }

    /**
     * The socket queue fell under its low-water mark: the client took bytes. (Streams write more only once it is
     * writable again, so between such events a queue that does not shrink is a client that takes nothing.)
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            sendProgressAt = now();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handlerRemoved(ctx);
        ctx.fireChannelInactive();
    }
}
