package nangogateway.upstream;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A response head from Nango, as {@link UpstreamResponseDecoder} read it: the status, the framing facts the
 * proxy needs, and the {@link ResponseHead} lines. {@link #headers()} is built from the lines on first use
 * only; the proxy's path never calls it.
 */
public final class UpstreamResponse extends DefaultHttpResponse {
    private final ResponseHead head;
    private final boolean keepAlive;
    private final boolean lengthKnown;
    private HttpHeaders headers;

    UpstreamResponse(HttpVersion version, HttpResponseStatus status, ResponseHead head, boolean keepAlive,
            boolean lengthKnown) {
        super(version, status, EmptyHttpHeaders.INSTANCE);
        this.head = head;
        this.keepAlive = keepAlive;
        this.lengthKnown = lengthKnown;
    }

    /** A head that could not be read: its decoder result says why; nothing else about it is meaningful. */
    static UpstreamResponse failed(Throwable cause) {
        UpstreamResponse r = new UpstreamResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY,
                new ResponseHead(new byte[0], new int[0], 0, new boolean[0]), false, false);
        r.setDecoderResult(DecoderResult.failure(cause));
        return r;
    }

    public ResponseHead head() {
        return head;
    }

    /** Whether the connection may carry another request after this response (version and Connection). */
    public boolean keepAlive() {
        return keepAlive;
    }

    /** Whether the upstream framed the body with a Content-Length (relayed as it is). */
    public boolean lengthKnown() {
        return lengthKnown;
    }

    @Override
    public HttpHeaders headers() {
        if (headers == null) {
            headers = head.toHeaders();
        }
        return headers;
    }
}
