package nangogateway.server;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The socket transport: Linux epoll when its native library loads, Java NIO otherwise. */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerSocketChannel> serverChannel, Class<? extends SocketChannel> clientChannel) {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /**
     * The buffer allocator of every client and upstream connection: Netty's pooled allocator, whose per-thread
     * caches suit a request that never leaves its event loop. It spent less CPU per request than the adaptive
     * default on the benchmark (the adaptive one's shared queues showed up in profiles).
     */
    public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    public static Transport best() {
        if (!Boolean.getBoolean("nangogateway.nio") && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class);
        }
        if (!Boolean.getBoolean("nangogateway.nio")) {
            log.info("epoll unavailable ({}); using NIO", String.valueOf(Epoll.unavailabilityCause()));
        }
        return nio();
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    public EventLoopGroup newGroup(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads,
                new io.netty.util.concurrent.DefaultThreadFactory(prefix, true), ioHandlerFactory);
    }
}
