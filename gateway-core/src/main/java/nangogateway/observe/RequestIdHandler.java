package nangogateway.observe;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.concurrent.ThreadLocalRandom;
import nangogateway.exchange.RequestFacts;

/**
 * Gives every request an {@code X-Request-Id}: the client's own when it is one well-formed value, a fresh one
 * otherwise. It is forwarded to Nango, returned to the client and written to the access log, so one id follows a
 * request through every log.
 */
public final class RequestIdHandler extends ChannelDuplexHandler {
    public static final String HEADER = "X-Request-Id";
    private static final AsciiString NAME = AsciiString.cached(HEADER);
    private RequestFacts facts;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        facts = RequestFacts.of(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r) {
            CharSequence id = idFor(r);
            if (r.decoderResult().isSuccess()) {
                r.headers().set(NAME, id);
            }
            facts.requestId(id);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().code() >= 200) {
            CharSequence id = facts.requestId();
            if (id != null) {
                r.headers().set(NAME, id);
            }
        }
        ctx.write(msg, promise);
    }

    /** The request's id: the client's own when it is acceptable, a fresh one otherwise (always for a refused head). */
    public static CharSequence idFor(HttpRequest r) {
        CharSequence id = r.decoderResult().isFailure() ? null
                : acceptable(r.headers().valueCharSequenceIterator(NAME));
        return id == null ? fresh() : id;
    }

    /** The client's id when it sent exactly one of 1–128 characters from {@code [A-Za-z0-9._:-]}. */
    static String acceptable(Iterator<? extends CharSequence> values) {
        if (!values.hasNext()) {
            return null;
        }
        String v = values.next().toString().trim();
        if (values.hasNext()) {
            return null;
        }
        if (v.isEmpty() || v.length() > 128) {
            return null;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) {
                return null;
            }
        }
        return v;
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** 128 random bits as 32 lowercase hex digits (bytes, so writing them out is one copy). */
    static AsciiString fresh() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        byte[] out = new byte[32];
        long a = r.nextLong();
        long b = r.nextLong();
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (a & 0xf)];
            out[16 + i] = HEX[(int) (b & 0xf)];
            a >>>= 4;
            b >>>= 4;
        }
        return new AsciiString(out, false);
    }
}
