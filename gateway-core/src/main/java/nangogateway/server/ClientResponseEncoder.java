package nangogateway.server;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import nangogateway.upstream.RelayedResponse;
import nangogateway.upstream.ResponseHead;

/**
 * Netty's response encoder, which also writes the header lines of a {@link RelayedResponse} as Nango sent them
 * (already validated and cleaned of hop-by-hop ones by the upstream decoder), just before the headers the gateway
 * set. They are written with those, after the encoder has sanitised the gateway's map (a 205 gets its
 * {@code Content-Length: 0} there), so any name in the final map replaces Nango's line of that name.
 */
public final class ClientResponseEncoder extends HttpResponseEncoder {
    /** The relayed lines of the message being encoded, between its status line and its header block. */
    private ResponseHead relayed;

    @Override
    protected void encodeInitialLine(ByteBuf buf, HttpResponse response) throws Exception {
        super.encodeInitialLine(buf, response);
        relayed = response instanceof RelayedResponse r ? r.relayed() : null;
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
        ResponseHead lines = relayed;
        if (lines != null) {
            relayed = null; // once: trailers are encoded through here too
            lines.writeRelayed(buf, headers);
        }
        super.encodeHeaders(headers, buf);
    }
}
