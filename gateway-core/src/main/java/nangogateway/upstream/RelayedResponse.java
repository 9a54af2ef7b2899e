package nangogateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A response to the client whose header lines come as bytes ({@link #relayed()}): Nango's, relayed as they came,
 * or the fixed lines of one of the gateway's own status pages, encoded once. The headers the gateway sets per
 * response are in {@link #headers()} (framing, {@code Connection}, its request id...) and replace a line of the
 * same name. The client connection's encoder writes both.
 */
public interface RelayedResponse extends HttpResponse {
    ResponseHead relayed();

    /** The head alone; body pieces follow. */
    static HttpResponse head(HttpResponseStatus status, ResponseHead relayed, HttpHeaders gatewaySet) {
        return new Head(status, relayed, gatewaySet);
    }

    /** Head and whole body in one message (the common small response that came in one read). */
    static FullHttpResponse whole(HttpResponseStatus status, ResponseHead relayed, HttpHeaders gatewaySet, ByteBuf body) {
        return new Whole(status, relayed, gatewaySet, body);
    }

    final class Head extends DefaultHttpResponse implements RelayedResponse {
        private final ResponseHead relayed;

        private Head(HttpResponseStatus status, ResponseHead relayed, HttpHeaders gatewaySet) {
            super(HttpVersion.HTTP_1_1, status, gatewaySet);
            this.relayed = relayed;
        }

        @Override
        public ResponseHead relayed() {
            return relayed;
        }
    }

    final class Whole extends DefaultFullHttpResponse implements RelayedResponse {
        private final ResponseHead relayed;

        private Whole(HttpResponseStatus status, ResponseHead relayed, HttpHeaders gatewaySet, ByteBuf body) {
            super(HttpVersion.HTTP_1_1, status, body, gatewaySet, EmptyHttpHeaders.INSTANCE);
            this.relayed = relayed;
        }

        @Override
        public ResponseHead relayed() {
            return relayed;
        }
    }
}
