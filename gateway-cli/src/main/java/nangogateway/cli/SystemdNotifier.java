package nangogateway.cli;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * sd_notify(3): tells systemd ({@code Type=notify}) when the gateway is ready, reloading or stopping.
 * {@code NOTIFY_SOCKET} is a Unix datagram socket, which the JDK cannot address, so this sends through Netty's
 * epoll transport. Without {@code NOTIFY_SOCKET} (not started by systemd) every call does nothing.
 */
final class SystemdNotifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final long SEND_TIMEOUT_MS = 2000;

    /** Null when disabled. */
    private final Bootstrap bootstrap;
    private final DomainSocketAddress address;
    /** As NOTIFY_SOCKET spells it, for messages. */
    private final String name;

    private SystemdNotifier(Bootstrap bootstrap, DomainSocketAddress address, String name) {
        this.bootstrap = bootstrap;
        this.address = address;
        this.name = name;
    }

    /**
     * A notifier for {@code notifySocket} (the value of {@code NOTIFY_SOCKET}): an absolute path, or
     * {@code @name} for the abstract namespace. Null or empty gives a notifier that does nothing.
     */
    static SystemdNotifier open(String notifySocket) {
        if (notifySocket == null || notifySocket.isEmpty()) {
            return disabled();
        }
        if (!notifySocket.startsWith("/") && !notifySocket.startsWith("@")) {
            log.warn("NOTIFY_SOCKET={} is neither an absolute path nor an abstract name; systemd will not be told"
                    + " when the gateway is ready", notifySocket);
            return disabled();
        }
        if (!Epoll.isAvailable()) {
            log.warn("NOTIFY_SOCKET is set but the epoll transport is unavailable ({}); systemd will not be told"
                    + " when the gateway is ready: use Type=exec", String.valueOf(Epoll.unavailabilityCause()));
            return disabled();
        }
        // The abstract namespace is spelled '@' in the variable and a leading NUL byte in the address.
        String path = notifySocket.startsWith("@") ? "\0" + notifySocket.substring(1) : notifySocket;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sd-notify", true),
                EpollIoHandler.newFactory());
        Bootstrap bootstrap = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new Discard());
        return new SystemdNotifier(bootstrap, new DomainSocketAddress(path), notifySocket);
    }

    private static SystemdNotifier disabled() {
        return new SystemdNotifier(null, null, null);
    }

    boolean enabled() {
        return bootstrap != null;
    }

    void ready(String status) {
        send("READY=1\nSTATUS=" + status);
    }

    /** {@code MONOTONIC_USEC} lets {@code Type=notify-reload} tie this message to the SIGHUP it sent. */
    void reloading() {
        // HotSpot's nanoTime is CLOCK_MONOTONIC on Linux, the clock systemd expects here.
        send("RELOADING=1\nMONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime()));
    }

    void stopping() {
        send("STOPPING=1");
    }

    /** One keep-alive for {@code WatchdogSec=}: sent only while every event loop answers. */
    boolean watchdog() {
        return send("WATCHDOG=1");
    }

    /**
     * Sends one datagram on a socket of its own, as libsystemd does, so a notify socket systemd re-created
     * is still found; waits until it has left. A failure is logged, never thrown: telling systemd is never a
     * reason to stop serving.
     */
    boolean send(String state) {
        if (bootstrap == null) {
            return false;
        }
        Channel channel = null;
        try {
            ChannelFuture connected = bootstrap.connect(address);
            channel = connected.channel();
            if (!connected.awaitUninterruptibly(SEND_TIMEOUT_MS) || !connected.isSuccess()) {
                log.warn("sd_notify {}: cannot reach NOTIFY_SOCKET={}: {}", firstLine(state), name,
                        String.valueOf(connected.cause()));
                return false;
            }
            ChannelFuture sent = channel.writeAndFlush(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8));
            if (!sent.awaitUninterruptibly(SEND_TIMEOUT_MS) || !sent.isSuccess()) {
                log.warn("sd_notify {} failed: {}", firstLine(state), String.valueOf(sent.cause()));
                return false;
            }
            return true;
        } catch (RuntimeException e) {
            log.warn("sd_notify {} failed: {}", firstLine(state), e.toString());
            return false;
        } finally {
            if (channel != null && channel.isRegistered()) {
                channel.close().awaitUninterruptibly();
            }
        }
    }

    private static String firstLine(String state) {
        int nl = state.indexOf('\n');
        return nl < 0 ? state : state.substring(0, nl);
    }

    /** The socket only sends; should systemd ever write back, drop it. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void close() {
        if (bootstrap != null) {
            bootstrap.config().group().shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
