package nangogateway.exchange;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The one rule for an answer the gateway makes itself (router, https redirect, admin listener, callback replay),
 * so no handler decides HEAD or keep-alive on its own: a HEAD answer keeps its headers, Content-Length included,
 * and drops its body (RFC 9110 9.3.2); the connection closes when the request still has a body on the wire, the
 * client asked for it, the client speaks HTTP/1.0, or the answerer wants it closed.
 */
public final class LocalAnswer {
    private LocalAnswer() {
    }

    /**
     * Readies {@code response} as the answer to {@code admitted}; true when the connection must close after it
     * (the response then carries {@code Connection: close}).
     */
    public static boolean prepare(AdmittedRequest admitted, FullHttpResponse response, boolean close) {
        HttpRequest request = admitted.request();
        if (request.method().equals(HttpMethod.HEAD)) {
            response.content().clear();
        }
        boolean closing = close || admitted.hasBody() || !HttpUtil.isKeepAlive(request)
                || request.protocolVersion() == HttpVersion.HTTP_1_0
                || response.headers().contains(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
        if (closing) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return closing;
    }
}
