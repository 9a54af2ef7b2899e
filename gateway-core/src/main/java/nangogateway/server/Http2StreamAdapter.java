package nangogateway.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.Iterator;
import java.util.Map;
import nangogateway.http.BadMessage;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.ResponseHead;

/**
 * The first handler of an HTTP/2 stream's pipeline: it turns the stream's frames into the HTTP/1.x messages the
 * rest of the pipeline reads (a request head, body pieces, the end), and the responses written back into frames.
 * Everything after it is the pipeline an HTTP/1.1 connection has, so every rule applies to both alike.
 *
 * <p>In: the first HEADERS is checked and translated by {@link Http2RequestHead}; DATA become body pieces, counted
 * against the declared {@code content-length}; a last HEADERS becomes trailers. A stream that breaks a rule gives
 * a failed message the guard refuses (400), and the stream is then reset with {@code PROTOCOL_ERROR}
 * (RFC 9113 section 8.1.1: an intermediary never forwards a malformed request). Out: a response head becomes
 * HEADERS (names lowercased, connection-specific fields left out, Nango's relayed lines included), body pieces DATA,
 * the end {@code END_STREAM}.
 *
 * <p>It also counts the response bytes written and not yet taken by the connection, which is what the send
 * timeout reads on a stream (a stream has no outbound buffer of its own: its frames wait in the connection's flow
 * control).
 */
final class Http2StreamAdapter extends ChannelDuplexHandler {
    private static final AttributeKey<Http2StreamAdapter> KEY = AttributeKey.valueOf("nangogateway.h2stream");
    private static final AsciiString[] CONNECTION_SPECIFIC = {
        AsciiString.cached("connection"), AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
        AsciiString.cached("transfer-encoding"), AsciiString.cached("upgrade"), AsciiString.cached("te")};

    private final int maxRequestLine;
    private final int maxHeaders;
    /** The connection's refusal handler, which may already have read this stream's request head; or null. */
    private final Http2RefusalHandler refusals;
    private boolean headSeen;
    /** The request is a HEAD: its response carries no DATA, whatever is written. */
    private boolean head;
    /** END_STREAM has been written: the response is whole. */
    private boolean responseEnded;
    private boolean ended;
    private boolean malformed;
    /** The declared content-length, or -1. */
    private final long[] declared = {-1};
    private long received;
    /** Response DATA bytes written towards the connection whose write has not completed. */
    private long pending;

    Http2StreamAdapter(int maxRequestLine, int maxHeaders, Http2RefusalHandler refusals) {
        this.maxRequestLine = maxRequestLine;
        this.maxHeaders = maxHeaders;
        this.refusals = refusals;
    }

    /** Response bytes of this stream still waiting to be taken by the client, or -1 when {@code ch} is not one. */
    static long pendingBytes(Channel ch) {
        Http2StreamAdapter a = ch.attr(KEY).get();
        return a == null ? -1 : a.pending;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().attr(KEY).set(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (ended || malformed) {
            ReferenceCountUtil.release(msg); // nothing after the end, or after a refusal
            return;
        }
        if (msg instanceof Http2HeadersFrame h) {
            onHeaders(ctx, h);
        } else if (msg instanceof Http2DataFrame d) {
            onData(ctx, d);
        } else {
            ReferenceCountUtil.release(msg); // resets and other frames: the stream channel acts on them itself
        }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame h) {
        if (!headSeen) {
            headSeen = true;
            HttpRequest request = refusals == null ? null : refusals.takeTranslation(h, declared);
            if (request == null) {
                request = Http2RequestHead.translate(h.headers(), h.isEndStream(), maxRequestLine, maxHeaders,
                        declared);
            }
            ended = h.isEndStream();
            head = request.method().equals(io.netty.handler.codec.http.HttpMethod.HEAD);
            if (request.decoderResult().isFailure()) {
                malformed = true;
            }
            ctx.fireChannelRead(request);
            return;
        }
        if (!h.isEndStream()) {
            refuseBody(ctx, "HEADERS in the middle of a request body");
            return;
        }
        LastHttpContent last = new DefaultLastHttpContent();
        String problem = Http2RequestHead.checkTrailers(h.headers(), last.trailingHeaders());
        if (problem == null) {
            problem = lengthAtEnd();
        }
        if (problem != null) {
            last.release();
            refuseBody(ctx, problem);
            return;
        }
        ended = true;
        ctx.fireChannelRead(last);
    }

    private void onData(ChannelHandlerContext ctx, Http2DataFrame d) {
        ByteBuf content = d.content();
        received += content.readableBytes();
        String problem = declared[0] >= 0 && received > declared[0]
                ? "DATA beyond content-length " + declared[0] : d.isEndStream() ? lengthAtEnd() : null;
        if (problem != null) {
            d.release();
            refuseBody(ctx, problem);
            return;
        }
        if (d.isEndStream()) {
            ended = true;
            ctx.fireChannelRead(new DefaultLastHttpContent(content));
        } else {
            ctx.fireChannelRead(new DefaultHttpContent(content));
        }
    }

    private String lengthAtEnd() {
        return declared[0] >= 0 && received != declared[0]
                ? "DATA add up to " + received + " bytes, content-length says " + declared[0] : null;
    }

    /** The body broke a rule: a failed piece the guard refuses. */
    private void refuseBody(ChannelHandlerContext ctx, String reason) {
        malformed = true;
        LastHttpContent bad = new DefaultLastHttpContent();
        bad.setDecoderResult(DecoderResult.failure(new BadMessage(reason)));
        ctx.fireChannelRead(bad);
    }

    /**
     * A stream error the codec found on this stream (DATA that do not add up to content-length, DATA after
     * END_STREAM, a window overflow, ...): the multiplexer resets the stream with the error's own code as soon as
     * this returns, and the rest of the pipeline learns of it by the channel closing. Handed on, the error handler
     * would close first, which resets with CANCEL (not the RFC's code) and logs the client's fault as a warning.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) instanceof Http2Exception.StreamException e) {
            // Found writing too (a failed void-promise write): the stream is reset with the error's code here, and
            // closed. For one found reading, the codec's own reset then finds it already sent.
            resetUnlessClosed(ctx, e.error());
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    /** The client reset the stream: it is closed now, even with DATA still queued for a read nobody will ask for. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static void resetUnlessClosed(ChannelHandlerContext ctx, Http2Error error) {
        if (ctx.channel() instanceof Http2StreamChannel s && s.stream().state() != Http2Stream.State.CLOSED
                && s.parent().isActive()) {
            ctx.write(new DefaultHttp2ResetFrame(error));
            ctx.flush();
        }
    }

    /**
     * A malformed stream is reset with PROTOCOL_ERROR rather than CANCEL; one whose response is whole while the
     * client is still sending (a 413, a 403 to a POST) with NO_ERROR, so the client reads the answer (RFC 9113
     * section 8.1); a stream already ended both ways gets no reset at all.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (malformed) {
            resetUnlessClosed(ctx, Http2Error.PROTOCOL_ERROR);
        } else if (responseEnded && !ended) {
            resetUnlessClosed(ctx, Http2Error.NO_ERROR);
        }
        ctx.close(promise);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpObject && ctx.channel() instanceof Http2StreamChannel s
                && s.stream().state() == Http2Stream.State.CLOSED) {
            // The stream was reset (by the client, or by a timeout here) while its response was still coming: the
            // channel is about to close, and a frame now would be an error in the codec. An I/O failure instead,
            // which the pipeline takes as the client having gone.
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (msg instanceof HttpResponse r) {
            writeResponse(ctx, r, promise);
        } else if (msg instanceof HttpContent c) {
            writeContent(ctx, c, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    private void writeResponse(ChannelHandlerContext ctx, HttpResponse r, ChannelPromise promise) {
        Http2Headers headers = headers(r);
        boolean informational = r.status().code() < 200;
        if (head && !informational) {
            // A HEAD's answer is its HEADERS alone, whoever wrote it (Nango's, or one of the gateway's own).
            ReferenceCountUtil.release(r);
            responseEnded = true;
            ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
            return;
        }
        if (!(r instanceof FullHttpMessage full)) {
            ReferenceCountUtil.release(r);
            ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
            return;
        }
        if (informational) {
            full.release();
            ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
            return;
        }
        if (!full.content().isReadable() && full.trailingHeaders().isEmpty()) {
            full.release();
            responseEnded = true;
            ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
            return;
        }
        // Frames of one stream are written in order, and the last one's outcome is the response's; HEADERS that
        // fail (too large for the client's header list limit: an outbound stream error nobody else acts on) close
        // the stream at once, before its DATA could go out alone.
        ctx.write(new DefaultHttp2HeadersFrame(headers, false)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        writeContent(ctx, full, promise);
    }

    /** Body piece (or the end, with its trailers) as DATA, and HEADERS for trailers. */
    private void writeContent(ChannelHandlerContext ctx, HttpContent c, ChannelPromise promise) {
        boolean last = c instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) c).trailingHeaders() : null;
        boolean hasTrailers = trailers != null && !trailers.isEmpty();
        if (responseEnded) { // after a HEAD's HEADERS: its body pieces and end go nowhere
            c.release();
            promise.trySuccess();
            return;
        }
        ByteBuf content = c.content();
        int bytes = content.readableBytes();
        if (last) {
            responseEnded = true;
        }
        if (bytes == 0 && !last) {
            c.release();
            promise.trySuccess();
            return;
        }
        if (bytes > 0 || !hasTrailers) {
            pending += bytes;
            ChannelFuture data = ctx.write(new DefaultHttp2DataFrame(content, last && !hasTrailers),
                    hasTrailers ? ctx.newPromise() : promise.unvoid());
            if (bytes > 0) {
                data.addListener((ChannelFutureListener) f -> pending -= bytes);
            }
        } else {
            content.release();
        }
        if (hasTrailers) {
            Http2Headers t = new DefaultHttp2Headers(false);
            copy(trailers, t);
            ctx.write(new DefaultHttp2HeadersFrame(t, true), promise);
        }
    }

    /** The response head as HTTP/2 fields: lowercase names, no connection-specific ones, relayed lines included. */
    static Http2Headers headers(HttpResponse r) {
        Http2Headers h = new DefaultHttp2Headers(false);
        h.status(r.status().codeAsText());
        HttpHeaders gatewaySet = r.headers();
        if (r instanceof RelayedResponse relayed) {
            ResponseHead lines = relayed.relayed();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.relays(i, gatewaySet)) {
                    add(h, lines.name(i), lines.value(i));
                }
            }
        }
        copy(gatewaySet, h);
        return h;
    }

    private static void copy(HttpHeaders from, Http2Headers to) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            add(to, e.getKey(), e.getValue());
        }
    }

    private static void add(Http2Headers to, CharSequence name, CharSequence value) {
        AsciiString lower = AsciiString.of(name).toLowerCase();
        for (AsciiString c : CONNECTION_SPECIFIC) {
            if (c.contentEquals(lower)) {
                return;
            }
        }
        to.add(lower, value);
    }
}
