package nangogateway.net;

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
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket transport. By default the fastest one this kernel allows: Linux io_uring, then epoll, then Java NIO.
 * {@code -Dnangogateway.transport=io_uring|epoll|nio} asks for one; when it cannot load, the next in that order
 * is used and the reason logged. io_uring spent about a quarter less kernel time per proxied request than epoll
 * on the benchmark (tests/bench/run.sh); a kernel or a seccomp filter that forbids it (containers often do) leaves
 * the gateway on epoll.
 */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
        Class<? extends ServerSocketChannel> serverChannel, Class<? extends SocketChannel> clientChannel) {

    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** The names {@code -Dnangogateway.transport} accepts, fastest first. */
    public static final List<String> NAMES = List.of("io_uring", "epoll", "nio");

    /**
     * The buffer allocator of every client and upstream connection: Netty's pooled allocator, whose per-thread
     * caches suit a request that never leaves its event loop. It spent less CPU per request than the adaptive
     * default on the benchmark (the adaptive one's shared queues showed up in profiles).
     */
    public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    /** The transport asked for by {@code -Dnangogateway.transport} (default: the fastest available). */
    public static Transport best() {
        return load(choose(System.getProperty("nangogateway.transport", ""), Transport::available));
    }

    /**
     * The name of the transport a {@code -Dnangogateway.transport} value gets, given which ones can load: the one
     * it names (any case, blanks ignored) or else the next available after it in {@link #NAMES}; for an empty or
     * unknown value, the fastest available. NIO always loads.
     */
    static String choose(String value, Predicate<String> available) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        int from = wanted.isEmpty() ? 0 : NAMES.indexOf(wanted);
        if (from < 0) {
            log.warn("-Dnangogateway.transport={}: unknown, write one of {}; using the fastest available", wanted,
                    NAMES);
            from = 0;
        }
        for (String name : NAMES.subList(from, NAMES.size() - 1)) {
            if (available.test(name)) {
                return name;
            }
        }
        return "nio";
    }

    private static boolean available(String name) {
        boolean ok = switch (name) {
            case "io_uring" -> IoUring.isAvailable();
            case "epoll" -> Epoll.isAvailable();
            default -> true;
        };
        if (!ok) {
            log.info("{} unavailable ({}); trying the next transport", name,
                    String.valueOf(name.equals("io_uring") ? IoUring.unavailabilityCause() : Epoll.unavailabilityCause()));
        }
        return ok;
    }

    /** The transport of that name; NIO for any name but io_uring and epoll. */
    static Transport load(String name) {
        return switch (name) {
            case "io_uring" -> new Transport("io_uring", IoUringIoHandler.newFactory(),
                    IoUringServerSocketChannel.class, IoUringSocketChannel.class);
            case "epoll" -> new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class);
            default -> nio();
        };
    }

    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    public EventLoopGroup newGroup(int threads, String prefix) {
        return new MultiThreadIoEventLoopGroup(threads,
                new io.netty.util.concurrent.DefaultThreadFactory(prefix, true), ioHandlerFactory);
    }
}
