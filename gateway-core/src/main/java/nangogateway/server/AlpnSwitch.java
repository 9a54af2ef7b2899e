package nangogateway.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Consumer;
import nangogateway.lifecycle.DrainEvent;

/**
 * On a TLS listener that offers HTTP/2: waits for the handshake, then builds the rest of the pipeline for the
 * protocol the client chose by ALPN ({@code h2}, else HTTP/1.1) and steps out. Until then it asks for the bytes the
 * handshake needs (auto-read is off) and nothing else passes.
 */
final class AlpnSwitch extends ChannelInboundHandlerAdapter {
    private final Consumer<ChannelPipeline> http1;
    private final Consumer<ChannelPipeline> http2;

    AlpnSwitch(Consumer<ChannelPipeline> http1, Consumer<ChannelPipeline> http2) {
        this.http1 = http1;
        this.http2 = http2;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read(); // the handshake's first bytes; the TLS handler reads on until it is done
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                ctx.close(); // the TLS handler has said why (its own log and the client's alert)
                return;
            }
            configure(ctx, ctx.pipeline().get(SslHandler.class).applicationProtocol());
            return;
        }
        if (evt instanceof DrainEvent) {
            ctx.close(); // no request has started on a connection still in its handshake
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Builds the pipeline for the protocol the handshake settled on ({@code h2}, else HTTP/1.1) and steps out. */
    void configure(ChannelHandlerContext ctx, String protocol) {
        ChannelPipeline p = ctx.pipeline();
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            http2.accept(p);
            p.remove(this);
            ctx.channel().config().setAutoRead(true); // HTTP/2's own flow control bounds what a client sends
        } else {
            http1.accept(p);
            ctx.fireChannelActive(); // for the HTTP/1.1 handlers just added: they start reading on it
            p.remove(this);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // nothing comes before the handshake is done
    }
}
