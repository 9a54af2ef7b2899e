package nangogateway.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransportTest {
    private static final String PROPERTY = "nangogateway.transport";
    private final String saved = System.getProperty(PROPERTY);

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, saved);
        }
    }

    /** What the chain io_uring → epoll → nio gives on this machine when starting from {@code name}. */
    private static String expected(String name) {
        if (name.equals("io_uring") && IoUring.isAvailable()) {
            return "io_uring";
        }
        if (!name.equals("nio") && Epoll.isAvailable()) {
            return "epoll";
        }
        return "nio";
    }

    private static Transport with(String value) {
        System.setProperty(PROPERTY, value);
        return Transport.best();
    }

    @Test
    void defaultIsTheFastestAvailable() {
        System.clearProperty(PROPERTY);
        assertEquals(expected("io_uring"), Transport.best().name());
    }

    @Test
    void eachNameIsHonouredOrFallsBackInOrder() {
        for (String name : Transport.NAMES) {
            assertEquals(expected(name), with(name).name(), name);
        }
        assertEquals(expected("epoll"), with(" EPOLL ").name(), "case and blanks do not matter");
    }

    @Test
    void unknownNameMeansTheFastestAvailable() {
        assertEquals(expected("io_uring"), with("kqueue").name());
    }

    @Test
    void channelClassesMatchTheName() {
        Transport t = with("io_uring");
        Class<?> client = switch (t.name()) {
            case "io_uring" -> IoUringSocketChannel.class;
            case "epoll" -> EpollSocketChannel.class;
            default -> io.netty.channel.socket.nio.NioSocketChannel.class;
        };
        assertEquals(client, t.clientChannel());
        assertEquals(NioServerSocketChannel.class, with("nio").serverChannel());
    }
}
