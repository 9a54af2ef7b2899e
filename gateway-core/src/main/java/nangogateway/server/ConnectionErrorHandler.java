package nangogateway.server;

import nangogateway.lifecycle.FatalErrors;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of the client pipeline: an exception nobody handled closes the connection, logged once. Clients that
 * reset or abandon connections, and failed TLS handshakes, are routine on the internet and go to DEBUG only.
 */
@ChannelHandler.Sharable
public final class ConnectionErrorHandler extends ChannelInboundHandlerAdapter {
    public static final ConnectionErrorHandler INSTANCE = new ConnectionErrorHandler();
    private static final Logger log = LoggerFactory.getLogger(ConnectionErrorHandler.class);

    private ConnectionErrorHandler() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FatalErrors.exitIfFatal(cause);
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof IOException || root instanceof SSLException) {
            log.debug("{}: {}", ctx.channel().remoteAddress(), root.toString());
        } else {
            log.warn("{}: closing after an unexpected error", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // nothing past the actions consumes messages
    }
}
