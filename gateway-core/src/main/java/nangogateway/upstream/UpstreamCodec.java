package nangogateway.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import java.util.List;

/**
 * The HTTP codec of an upstream connection: Netty's request encoder, and {@link UpstreamResponseDecoder} for
 * what comes back, told the method of each request sent (a HEAD's response has no body).
 */
public final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamResponseDecoder, HttpRequestEncoder> {
    public static final String NAME = "codec";

    public UpstreamCodec() {
        UpstreamResponseDecoder decoder = new UpstreamResponseDecoder();
        init(decoder, new HttpRequestEncoder() {
            @Override
            protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
                if (msg instanceof HttpRequest r) {
                    decoder.requestSent(r.method());
                }
                super.encode(ctx, msg, out);
            }
        });
    }
}
