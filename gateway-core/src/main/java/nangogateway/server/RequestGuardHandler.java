package nangogateway.server;

import nangogateway.lifecycle.LingeringCloseHandler;
import nangogateway.exchange.RequestFacts;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.LocalResponses;
import nangogateway.exchange.Refusal;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import nangogateway.target.RequestTarget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The security boundary for framing and targets. A request that could be read two ways never goes further: a
 * decoder failure (the strict decoder refuses other versions and any ambiguous body length), anything but
 * exactly one valid {@code Host}, {@code Transfer-Encoding} on HTTP/1.0, a {@code Connection} header naming a
 * header the gateway owns, or a non-canonical target gets 400 (414/431 for oversize) and the connection is
 * closed. What passes is handed on as an {@link AdmittedRequest}; its body contents follow unchanged.
 */
public final class RequestGuardHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestGuardHandler.class);

    /** Headers a client may not ask the gateway to drop as hop-by-hop. */
    private static final List<String> PROTECTED_FROM_CONNECTION = List.of(
            "host", "content-length", "transfer-encoding", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "x-request-id", "cookie", "authorization", "user-agent");

    private static final String UNSUPPORTED_EXPECTATION = "unsupported expectation";

    /** True between an admitted request head and its LastHttpContent. */
    private boolean inRequest;
    /** True once a response head for the current exchange has been written. */
    private boolean responseStarted;
    private boolean rejected;
    /** How the body of the head just checked is framed: chunked, or its Content-Length (0 when none). */
    private boolean chunked;
    private long length;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            String problem = check(request);
            if (problem != null) {
                int status = statusFor(request, problem);
                reject(ctx, msg, status, status == 414 || status == 431 ? Refusal.TOO_LARGE : Refusal.FRAMING, problem);
                return;
            }
            RequestTarget.Verdict verdict = RequestTarget.parse(request.uri());
            if (!verdict.accepted()) {
                if (request.method().equals(HttpMethod.OPTIONS) && "*".equals(request.uri())) {
                    answerOptionsAsterisk(ctx, msg);
                    return;
                }
                reject(ctx, msg, 400, Refusal.BAD_TARGET, verdict.rejection());
                return;
            }
            inRequest = !(msg instanceof LastHttpContent);
            responseStarted = false;
            boolean hasBody = chunked || length > 0;
            // A bodiless request the decoder gave whole goes on as one message; any other full request's content
            // follows its head as usual.
            boolean complete = !hasBody && msg instanceof LastHttpContent last && !last.content().isReadable()
                    && last.trailingHeaders().isEmpty();
            if (complete) {
                ReferenceCountUtil.release(msg); // its empty content; the head (headers, target) is what goes on
            }
            ctx.fireChannelRead(new AdmittedRequest(request, verdict.target(), hasBody, chunked ? -1 : length,
                    complete));
            if (!complete && msg instanceof HttpContent content) {
                ctx.fireChannelRead(content);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (content.decoderResult().isFailure()) {
                reject(ctx, msg, 400, Refusal.FRAMING, "bad body framing: " + content.decoderResult().cause().getMessage());
                return;
            }
            if (msg instanceof LastHttpContent) {
                inRequest = false;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().codeClass() != io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
            responseStarted = true;
        }
        ctx.write(msg, promise);
    }

    /**
     * What is wrong with a decoded request head, or null; when null, {@link #chunked} and {@link #length} say how
     * its body is framed. One pass over the header lines collects the few that matter here; the checks then run
     * in a fixed order, so a head with several faults is always refused for the same one.
     */
    String check(HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            return "malformed request: " + cause.getClass().getSimpleName() + ": " + cause.getMessage();
        }
        int hosts = 0;
        int transferEncodings = 0;
        int contentLengths = 0;
        int expects = 0;
        CharSequence host = null;
        CharSequence contentLength = null;
        CharSequence expect = null;
        boolean connectionNamesOwned = false;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = request.headers().iteratorCharSequence();
                it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = e.getKey();
            switch (name.length()) {
                case 4 -> {
                    if (HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
                        hosts++;
                        host = e.getValue();
                    }
                }
                case 6 -> {
                    if (HttpHeaderNames.EXPECT.contentEqualsIgnoreCase(name)) {
                        expects++;
                        expect = e.getValue();
                    }
                }
                case 10 -> {
                    if (HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(name)) {
                        connectionNamesOwned |= namesOwnedHeader(e.getValue().toString());
                    }
                }
                case 14 -> {
                    if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
                        contentLengths++;
                        contentLength = e.getValue();
                    }
                }
                case 17 -> {
                    if (HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
                        transferEncodings++;
                    }
                }
                default -> { }
            }
        }
        if (hosts != 1) {
            return hosts == 0 ? "missing Host" : "repeated Host";
        }
        if (!HostHeader.isValid(host.toString())) {
            return "malformed Host";
        }
        // The decoder has refused any other version, and any framing but one Transfer-Encoding of exactly chunked
        // or one Content-Length of 1 to 18 digits, never both.
        chunked = transferEncodings == 1;
        if (chunked && request.protocolVersion() == HttpVersion.HTTP_1_0) {
            return "Transfer-Encoding on HTTP/1.0";
        }
        length = contentLengths == 1 ? Long.parseLong(contentLength, 0, contentLength.length(), 10) : 0;
        if (connectionNamesOwned) {
            return "Connection names a header the gateway owns";
        }
        if (expects > 1 || (expects == 1 && !expect.toString().trim().equalsIgnoreCase("100-continue"))) {
            return UNSUPPORTED_EXPECTATION;
        }
        return null;
    }

    private static boolean namesOwnedHeader(String connection) {
        for (String token : connection.split(",")) {
            if (PROTECTED_FROM_CONNECTION.contains(token.trim().toLowerCase(java.util.Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private static int statusFor(HttpRequest request, String problem) {
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            if (cause instanceof TooLongHttpLineException) {
                return 414;
            }
            if (cause instanceof TooLongHttpHeaderException) {
                return 431;
            }
            return 400;
        }
        if (problem.equals(UNSUPPORTED_EXPECTATION)) {
            return 417;
        }
        return 400;
    }

    private void reject(ChannelHandlerContext ctx, Object msg, int status, Refusal kind, String reason) {
        boolean head = msg instanceof HttpRequest r && r.decoderResult().isSuccess()
                && r.method().equals(HttpMethod.HEAD);
        ReferenceCountUtil.release(msg);
        rejected = true;
        if (log.isDebugEnabled()) {
            log.debug("{} rejected with {}: {}", ctx.channel().remoteAddress(), status, reason);
        }
        RequestFacts.of(ctx.channel()).reject(kind, reason);
        if (responseStarted && inRequest) {
            LingeringCloseHandler.closeNow(ctx); // a response is already on its way: the only honest answer is to cut it
            return;
        }
        var answer = LocalResponses.text(ctx.alloc(), status, true);
        if (head) {
            answer.content().clear(); // a HEAD's answer has no body (RFC 9110 section 9.3.2), as LocalAnswer has it
        }
        ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    }

    private void answerOptionsAsterisk(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        rejected = true; // simplest correct framing: answer and close, like any request we do not route
        RequestFacts.of(ctx.channel()).route("options-asterisk");
        var response = LocalResponses.build(ctx.alloc(), io.netty.handler.codec.http.HttpResponseStatus.OK, "",
                "text/plain; charset=utf-8", true);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
