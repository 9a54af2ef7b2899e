package nangogateway.server;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import nangogateway.upstream.RelayedResponse;

/**
 * Netty's response encoder, which also writes the header lines of a {@link RelayedResponse} as Nango sent them
 * (already validated and cleaned of hop-by-hop ones by the upstream decoder), between the status line and the
 * headers the gateway set.
 */
public final class ClientResponseEncoder extends HttpResponseEncoder {
    @Override
    protected void encodeInitialLine(ByteBuf buf, HttpResponse response) throws Exception {
        super.encodeInitialLine(buf, response);
        if (response instanceof RelayedResponse r) {
            r.relayed().writeRelayed(buf, response.headers());
        }
    }
}
