package nangogateway.exchange;

import io.netty.handler.codec.http.HttpRequest;
import nangogateway.target.RequestTarget;

/**
 * A request head that passed the request guard: well framed, with a canonical target. Unless it is
 * {@code complete}, its body follows as {@code HttpContent} messages ending in a {@code LastHttpContent}.
 *
 * @param hasBody the request declares a body (non-zero Content-Length, or chunked)
 * @param complete nothing follows: a bodiless request the decoder gave whole (see
 *     the strict request decoder), so no end-of-request message is read or awaited
 */
public record AdmittedRequest(HttpRequest request, RequestTarget target, boolean hasBody, long contentLength,
        boolean complete) {

    /** A head whose body, possibly empty, follows as separate messages. */
    public AdmittedRequest(HttpRequest request, RequestTarget target, boolean hasBody, long contentLength) {
        this(request, target, hasBody, contentLength, false);
    }
}
