package nangogateway.server;

import io.netty.handler.codec.http.HttpRequest;
import nangogateway.routing.RequestTarget;

/**
 * A request head that passed {@link RequestGuardHandler}: well framed, with a canonical target. Its body
 * follows as {@code HttpContent} messages ending in a {@code LastHttpContent}.
 *
 * @param hasBody the request declares a body (non-zero Content-Length, or chunked)
 */
public record AdmittedRequest(HttpRequest request, RequestTarget target, boolean hasBody, long contentLength) {
}
