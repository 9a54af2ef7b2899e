package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import nangogateway.testing.LogCapture;

/** The pipeline's end: unhandled errors close the connection (routine ones quietly), stray messages are freed. */
class ConnectionErrorHandlerTest {
    private LogCapture log;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        // DEBUG: to see what goes there, not only that WARN stays quiet; captured, so stack traces stay off the console
        log = new LogCapture(ConnectionErrorHandler.class.getName(), Level.DEBUG);
        channel = new EmbeddedChannel(ConnectionErrorHandler.INSTANCE);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
        log.close();
    }

    private List<ILoggingEvent> events(Level level) {
        return log.events().stream().filter(e -> e.getLevel() == level).toList();
    }

    /** The exception is handled here: nothing reaches the pipeline's tail and the connection is closed. */
    private void assertHandledAndClosed(Throwable cause) {
        assertTrue(channel.isOpen());
        channel.pipeline().fireExceptionCaught(cause);
        assertFalse(channel.isOpen(), "closed after " + cause);
        channel.checkException(); // would rethrow had it been passed on unhandled
    }

    /** Out of direct memory on an event loop: the process ends (and systemd restarts it) instead of limping on. */
    @Test
    void aVirtualMachineErrorEndsTheProcess() {
        OutOfMemoryError oom = new OutOfMemoryError("Cannot reserve 4194304 bytes of direct buffer memory");
        List<Throwable> exits = new java.util.ArrayList<>();
        nangogateway.lifecycle.FatalErrorsTest.recording(exits, () -> {
            EmbeddedChannel ch = new EmbeddedChannel(ConnectionErrorHandler.INSTANCE);
            ch.pipeline().fireExceptionCaught(oom);
            ch.finishAndReleaseAll();
        });
        assertEquals(List.of(oom), exits);
    }

    @Test
    void resetByPeerClosesAndLogsAtDebugOnly() {
        assertHandledAndClosed(new SocketException("Connection reset"));
        assertEquals(List.of(), events(Level.WARN));
        List<ILoggingEvent> debug = events(Level.DEBUG);
        assertEquals(1, debug.size(), "logged once");
        assertTrue(debug.get(0).getFormattedMessage().contains("java.net.SocketException: Connection reset"),
                debug.get(0).getFormattedMessage());
        assertNull(debug.get(0).getThrowableProxy(), "no stack trace for routine disconnects");
    }

    @Test
    void failedHandshakeInsideADecoderExceptionIsRoutineToo() {
        // SslHandler's failures reach here wrapped by ByteToMessageDecoder.
        SSLHandshakeException handshake = new SSLHandshakeException("no cipher suites in common");
        assertHandledAndClosed(new DecoderException(handshake));
        assertEquals(List.of(), events(Level.WARN));
        assertEquals(1, events(Level.DEBUG).size());
        assertTrue(events(Level.DEBUG).get(0).getFormattedMessage().contains("no cipher suites in common"));
    }

    @Test
    void plainHttpOnATlsPortIsRoutine() {
        assertHandledAndClosed(new DecoderException(new NotSslRecordException("not an SSL/TLS record")));
        assertEquals(List.of(), events(Level.WARN));
        assertEquals(1, events(Level.DEBUG).size());
    }

    @Test
    void wrappedIoExceptionIsUnwrappedForTheLog() {
        assertHandledAndClosed(new DecoderException(new IOException("Broken pipe")));
        assertEquals(List.of(), events(Level.WARN));
        String line = events(Level.DEBUG).get(0).getFormattedMessage();
        assertTrue(line.contains("java.io.IOException: Broken pipe"), line);
        assertFalse(line.contains("DecoderException"), "the root cause is what is logged: " + line);
    }

    @Test
    void unexpectedErrorIsAWarningWithItsStackTrace() {
        IllegalStateException bug = new IllegalStateException("handler bug");
        assertHandledAndClosed(bug);
        List<ILoggingEvent> warn = events(Level.WARN);
        assertEquals(1, warn.size());
        assertTrue(warn.get(0).getFormattedMessage().contains("closing after an unexpected error"));
        assertNotNull(warn.get(0).getThrowableProxy(), "a bug needs its stack trace");
        assertEquals(IllegalStateException.class.getName(), warn.get(0).getThrowableProxy().getClassName());
        assertEquals(List.of(), events(Level.DEBUG));
    }

    @Test
    void decoderExceptionWithoutACauseIsUnexpected() {
        DecoderException e = new DecoderException("decoder state broke");
        assertHandledAndClosed(e);
        List<ILoggingEvent> warn = events(Level.WARN);
        assertEquals(1, warn.size());
        assertEquals(DecoderException.class.getName(), warn.get(0).getThrowableProxy().getClassName());
    }

    @Test
    void decoderExceptionAroundABugIsUnexpectedAndKeepsTheWrapper() {
        DecoderException e = new DecoderException(new NullPointerException("oops"));
        assertHandledAndClosed(e);
        List<ILoggingEvent> warn = events(Level.WARN);
        assertEquals(1, warn.size());
        assertEquals(DecoderException.class.getName(), warn.get(0).getThrowableProxy().getClassName(),
                "the whole chain is logged");
        assertEquals(NullPointerException.class.getName(), warn.get(0).getThrowableProxy().getCause().getClassName());
    }

    @Test
    void strayMessagesAreReleasedNotPassedOn() {
        ByteBuf raw = Unpooled.copiedBuffer("leftover", StandardCharsets.US_ASCII);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/",
                Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII));
        assertFalse(channel.writeInbound(raw, request), "nothing reaches the tail");
        assertEquals(0, raw.refCnt());
        assertEquals(0, request.refCnt());
        assertNull(channel.readInbound());
        assertTrue(channel.isOpen(), "a stray message is not an error");
        assertEquals(List.of(), log.events());
    }

    @Test
    void theSharedInstanceServesManyConnections() {
        EmbeddedChannel other = new EmbeddedChannel(ConnectionErrorHandler.INSTANCE);
        try {
            other.pipeline().fireExceptionCaught(new IOException("gone"));
            assertFalse(other.isOpen());
            assertTrue(channel.isOpen(), "closing one connection leaves the others alone");
        } finally {
            other.finishAndReleaseAll();
        }
    }
}
