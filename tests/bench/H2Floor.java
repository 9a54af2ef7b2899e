import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.File;
import java.nio.charset.StandardCharsets;

/**
 * The floor under the gateway's HTTP/2 figures: the least Netty itself spends per request on this machine, with no
 * rule of the gateway's, measured by tests/bench/h2-floor.sh side by side with nginx.
 *
 * <pre>
 *   java -cp gateway-cli/target/nango-gateway.jar tests/bench/H2Floor.java MODE PORT CERT KEY
 * </pre>
 * Every request is answered 403 with a 146-byte body (the size of nginx's), over TLS on BoringSSL and io_uring with
 * two event loops, as the gateway runs. MODE:
 * <ul>
 *   <li>{@code codec}: HTTP/2 frame codec only; the answer is written on the connection (no stream channel);</li>
 *   <li>{@code mux}: frame codec and stream multiplexer; each stream gets a child channel with one handler;</li>
 *   <li>{@code mux:N}: the same with N more handlers in each stream's pipeline that hand every read and write on
 *   (the gateway has 12, which do their own work besides).</li>
 * </ul>
 * ALPN offers h2 and http/1.1; HTTP/1.1 connections get the same answer from Netty's HTTP/1.1 codec.
 */
public final class H2Floor {
    private static final byte[] BODY = ("<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
            + "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>floor</center>\r\n</body>\r\n</html>\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: H2Floor codec|mux|mux:N PORT CERT KEY");
            System.exit(2);
        }
        String mode = args[0];
        int extra = mode.startsWith("mux:") ? Integer.parseInt(mode.substring(4)) : 0;
        boolean mux = mode.startsWith("mux");
        SslContext tls = SslContextBuilder.forServer(new File(args[2]), new File(args[3]))
                .sslProvider(SslProvider.OPENSSL)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, IoUringIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(group).channel(IoUringServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()), new Alpn(mux, extra));
                    }
                }).bind("127.0.0.1", Integer.parseInt(args[1])).sync().channel();
        System.out.println("ready: " + mode + " on " + server.localAddress() + " (" + IoUringIoHandler.class.getSimpleName()
                + ", TLS " + SslProvider.OPENSSL + ")");
        server.closeFuture().sync();
    }

    private static final class Alpn extends ApplicationProtocolNegotiationHandler {
        private final boolean mux;
        private final int extra;

        Alpn(boolean mux, int extra) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.mux = mux;
            this.extra = extra;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            ChannelPipeline p = ctx.pipeline();
            if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                p.addLast(new HttpServerCodec(), new Http1Answer());
                return;
            }
            p.addLast(Http2FrameCodecBuilder.forServer()
                    .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(100)).build());
            if (!mux) {
                p.addLast(new StreamAnswer());
                return;
            }
            p.addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel stream) {
                    for (int i = 0; i < extra; i++) {
                        stream.pipeline().addLast("pass-" + i, new PassThrough());
                    }
                    stream.pipeline().addLast("answer", new StreamAnswer());
                }
            }));
        }
    }

    /**
     * Hands every read and write on, as the gateway's handlers do when a message is not theirs; overriding the
     * methods keeps Netty from skipping the handler when it dispatches them (a bare ChannelDuplexHandler is skipped).
     */
    private static final class PassThrough extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    private static Http2Headers headers() {
        return new DefaultHttp2Headers().status("403").addInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length)
                .add(HttpHeaderNames.CONTENT_TYPE, "text/html");
    }

    /** Answers each whole request: on the connection (frames name their stream) or in a stream's own channel. */
    private static final class StreamAnswer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                Http2FrameStream stream = h.stream();
                ByteBuf body = Unpooled.wrappedBuffer(BODY);
                ctx.write(new DefaultHttp2HeadersFrame(headers()).stream(stream));
                ctx.write(new DefaultHttp2DataFrame(body, true).stream(stream));
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    private static final class Http1Answer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FORBIDDEN,
                        Unpooled.wrappedBuffer(BODY));
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length).set(HttpHeaderNames.CONTENT_TYPE,
                        "text/html");
                ctx.write(r);
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
