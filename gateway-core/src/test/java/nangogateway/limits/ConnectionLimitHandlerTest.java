package nangogateway.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.junit.jupiter.api.Test;

class ConnectionLimitHandlerTest {

    /** An embedded channel that reports a chosen remote address. */
    private static EmbeddedChannel from(String ip, ConnectionLimitHandler h) {
        return new EmbeddedChannel(h) {
            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress(ip, 40000);
            }
        };
    }

    @Test
    void perClientCapClosesAtAcceptAndCountsDown() {
        ConnectionLimitHandler h = new ConnectionLimitHandler(0, 2);
        EmbeddedChannel a = from("10.0.0.1", h);
        EmbeddedChannel b = from("10.0.0.1", h);
        EmbeddedChannel c = from("10.0.0.1", h);
        EmbeddedChannel other = from("10.0.0.2", h);
        assertTrue(a.isOpen() && b.isOpen() && other.isOpen());
        assertFalse(c.isOpen(), "third from one address");
        assertEquals(1, h.refused());
        a.close();
        EmbeddedChannel d = from("10.0.0.1", h);
        assertTrue(d.isOpen(), "a slot freed by a close is reused");
        assertEquals(3, h.open());
        for (EmbeddedChannel ch : new EmbeddedChannel[] {b, c, other, d}) {
            ch.finishAndReleaseAll();
        }
        assertEquals(0, h.open());
    }

    @Test
    void listenerCapCountsEveryClient() {
        ConnectionLimitHandler h = new ConnectionLimitHandler(2, 0);
        EmbeddedChannel a = from("10.0.0.1", h);
        EmbeddedChannel b = from("10.0.0.2", h);
        EmbeddedChannel c = from("10.0.0.3", h);
        assertFalse(c.isOpen());
        h.update(3, 0);
        EmbeddedChannel d = from("10.0.0.4", h);
        assertTrue(d.isOpen(), "a reload that raises the cap applies to new connections");
        for (EmbeddedChannel ch : new EmbeddedChannel[] {a, b, c, d}) {
            ch.finishAndReleaseAll();
        }
    }

    /** A WebSocket tunnel takes the handler out of the pipeline; the close must still give the slot back. */
    @Test
    void aConnectionIsCountedDownEvenAfterTheHandlerLeftThePipeline() throws Exception {
        ConnectionLimitHandler h = new ConnectionLimitHandler(0, 2);
        for (int i = 0; i < 5; i++) {
            EmbeddedChannel tunnel = from("10.0.0.9", h);
            assertTrue(tunnel.isOpen(), "connection " + i);
            tunnel.pipeline().remove(h);
            tunnel.close();
        }
        assertEquals(0, h.open());
        assertEquals(0, h.open(java.net.InetAddress.getByName("10.0.0.9")));
        assertEquals(0, h.refused());
    }
}
