package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The next request is read once the current one is read to its end and its answer written, in either order. */
class NextRequestGateTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private int reads;
    private final NextRequestGate gate = new NextRequestGate(() -> reads++);

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void written() {
        ChannelPromise p = channel.newPromise();
        p.addListener(gate);
        p.setSuccess();
    }

    @Test
    void answerWrittenThenRequestEnded() {
        gate.answering(false);
        written();
        assertEquals(0, reads, "the request's end is still to be read");
        gate.requestEnded();
        assertEquals(1, reads);
    }

    @Test
    void requestEndedThenAnswerWritten() {
        gate.answering(false);
        gate.requestEnded();
        assertEquals(0, reads, "the answer is still being written");
        written();
        assertEquals(1, reads);
    }

    @Test
    void aCompleteRequestWaitsOnlyForItsAnswer() {
        gate.answering(true);
        assertEquals(0, reads);
        written();
        assertEquals(1, reads);
    }

    @Test
    void opensOncePerAnswer() {
        gate.answering(true);
        written();
        gate.requestEnded(); // a stray end after the gate opened does not read again
        assertEquals(1, reads);
        gate.answering(false);
        gate.requestEnded();
        written();
        assertEquals(2, reads);
    }

    @Test
    void aFailedWriteClosesTheConnectionAndReadsNothing() {
        gate.answering(true);
        ChannelPromise p = channel.newPromise();
        p.addListener(gate);
        assertTrue(channel.isOpen());
        p.setFailure(new java.io.IOException("reset"));
        assertEquals(0, reads);
        assertFalse(channel.isOpen());
    }
}
