package nangogateway.proxy;

import nangogateway.lifecycle.LingeringCloseHandler;
import nangogateway.lifecycle.FatalErrors;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import nangogateway.upstream.UpstreamChannelHandler;

/**
 * After Nango's {@code 101 Switching Protocols}, the client and upstream connections become one raw byte
 * tunnel: HTTP handlers are removed from both, bytes are relayed with read-after-write back-pressure, and an
 * idle tunnel is closed.
 */
public final class Tunnel {
    /** A WebSocket with no traffic either way for this long is closed. */
    public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

    private Tunnel() {
    }

    /** Starts the switch; called on the shared event loop while the upstream decoder is delivering the 101. */
    static void open(Channel client, Channel upstream, HttpResponse switching) {
        TunnelHandler fromUpstream = new TunnelHandler(client);
        upstream.pipeline().replace(UpstreamChannelHandler.NAME, "tunnel", fromUpstream);
        // Finish outside the decoder's callback, so removing the HTTP codecs hands their leftovers to the tunnel.
        upstream.eventLoop().execute(() -> {
            if (!client.isActive() || !upstream.isActive() || LingeringCloseHandler.closing(client)) {
                client.close();
                upstream.close();
                return;
            }
            if (upstream.pipeline().get("codec") != null) {
                upstream.pipeline().remove("codec");
            }
            DefaultFullHttpResponse full = new DefaultFullHttpResponse(switching.protocolVersion(), switching.status(),
                    Unpooled.EMPTY_BUFFER, switching.headers(),
                    io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
            client.writeAndFlush(full).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            TunnelHandler fromClient = new TunnelHandler(upstream);
            ChannelPipeline p = client.pipeline();
            p.addLast("tunnel-idle", new IdleStateHandler(0, 0, IDLE_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            p.addLast("tunnel", fromClient);
            List<String> http = new ArrayList<>();
            for (Map.Entry<String, ChannelHandler> e : p) {
                String name = e.getKey();
                if (!(e.getValue() instanceof SslHandler) && !name.equals("tunnel") && !name.equals("tunnel-idle")
                        && !name.equals("decoder")) {
                    http.add(name);
                }
            }
            for (String name : http) {
                p.remove(name);
            }
            if (p.get("decoder") != null) {
                p.remove("decoder"); // last: bytes it still holds go to the tunnel, and on to Nango raw
            }
            fromUpstream.start(upstream);
            fromClient.start(client);
        });
    }

    /** Relays one direction; reads its own channel only while the peer can take more. */
    static final class TunnelHandler extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final ArrayDeque<ByteBuf> early = new ArrayDeque<>();
        private boolean started;

        TunnelHandler(Channel peer) {
            this.peer = peer;
        }

        void start(Channel self) {
            started = true;
            ByteBuf b;
            boolean wrote = false;
            while ((b = early.poll()) != null) {
                peer.write(b);
                wrote = true;
            }
            if (wrote) {
                peer.flush();
            }
            self.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg); // a decoded message is no part of the raw byte stream
                return;
            }
            if (!started) {
                early.add(buf);
                return;
            }
            peer.write(buf).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!started) {
                return;
            }
            peer.flush();
            if (peer.isWritable()) {
                ctx.read();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (started && ctx.channel().isWritable()) {
                peer.read(); // our side drained: let the peer send more
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
                peer.close();
                return;
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            release();
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            release();
        }

        private void release() {
            ByteBuf b;
            while ((b = early.poll()) != null) {
                b.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            FatalErrors.exitIfFatal(cause);
            ctx.close();
            peer.close();
        }
    }
}
