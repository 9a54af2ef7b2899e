package nangogateway.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ch.qos.logback.classic.Level;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import nangogateway.testing.LogCapture;
import org.junit.jupiter.api.Test;

/** Which transport each -Dnangogateway.transport value gets, whichever ones this kernel allows. */
class TransportTest {
    private static final String PROPERTY = "nangogateway.transport";
    private static final Set<String> ALL = Set.of("io_uring", "epoll", "nio");
    private static final Set<String> NO_URING = Set.of("epoll", "nio");
    private static final Set<String> NIO_ONLY = Set.of("nio");

    private static String choose(String value, Set<String> available) {
        return Transport.choose(value, available::contains);
    }

    @Test
    void noValueMeansTheFastestThatLoads() {
        assertEquals("io_uring", choose("", ALL));
        assertEquals("epoll", choose("", NO_URING));
        assertEquals("nio", choose(" ", NIO_ONLY));
    }

    @Test
    void aNameIsHonouredWhenItLoads() {
        assertEquals("io_uring", choose("io_uring", ALL));
        assertEquals("epoll", choose("epoll", ALL), "epoll even where io_uring would load");
        assertEquals("nio", choose("nio", ALL), "nio even where both native ones would load");
        assertEquals("epoll", choose(" EPOLL ", ALL), "case and blanks do not matter");
        assertEquals("nio", choose("NIO", ALL));
    }

    @Test
    void aNameThatCannotLoadFallsToTheNextInOrder() {
        assertEquals("epoll", choose("io_uring", NO_URING));
        assertEquals("nio", choose("io_uring", NIO_ONLY));
        assertEquals("nio", choose("epoll", NIO_ONLY));
        assertEquals("nio", choose("epoll", Set.of("io_uring", "nio")), "never back to a faster one");
    }

    @Test
    void nioIsUsedWithoutAskingWhetherItLoads() {
        assertEquals("nio", choose("nio", Set.of()));
        assertEquals("nio", choose("", Set.of()));
    }

    @Test
    void anUnknownNameIsLoggedAndGetsTheFastestThatLoads() {
        try (LogCapture log = new LogCapture(Transport.class.getName(), Level.WARN)) {
            assertEquals("io_uring", choose("kqueue", ALL));
            assertEquals("epoll", choose("kqueue", NO_URING));
            assertEquals(List.of("-Dnangogateway.transport=kqueue: unknown, write one of [io_uring, epoll, nio];"
                    + " using the fastest available"), log.lines().subList(0, 1));
        }
    }

    @Test
    void onlyTheNamedOneAndSlowerAreAskedAbout() {
        List<String> asked = new ArrayList<>();
        Transport.choose("epoll", n -> asked.add(n) && false);
        assertEquals(List.of("epoll"), asked, "nio is never asked, io_uring not when epoll is named");
    }

    @Test
    void eachNameLoadsItsOwnChannelClasses() {
        Transport nio = Transport.load("nio");
        assertEquals("nio", nio.name());
        assertSame(NioServerSocketChannel.class, nio.serverChannel());
        assertSame(NioSocketChannel.class, nio.clientChannel());
        if (Epoll.isAvailable()) {
            Transport epoll = Transport.load("epoll");
            assertEquals("epoll", epoll.name());
            assertSame(EpollServerSocketChannel.class, epoll.serverChannel());
            assertSame(EpollSocketChannel.class, epoll.clientChannel());
        }
        if (IoUring.isAvailable()) {
            Transport uring = Transport.load("io_uring");
            assertEquals("io_uring", uring.name());
            assertSame(IoUringServerSocketChannel.class, uring.serverChannel());
            assertSame(IoUringSocketChannel.class, uring.clientChannel());
        }
    }

    @Test
    void theSystemPropertyIsWhatIsAskedFor() {
        String saved = System.getProperty(PROPERTY);
        try {
            System.setProperty(PROPERTY, "nio"); // the one value whose answer does not depend on this kernel
            assertEquals("nio", Transport.best().name());
        } finally {
            if (saved == null) {
                System.clearProperty(PROPERTY);
            } else {
                System.setProperty(PROPERTY, saved);
            }
        }
    }
}
