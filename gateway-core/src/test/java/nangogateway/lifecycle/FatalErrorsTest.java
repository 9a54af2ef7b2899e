package nangogateway.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

public class FatalErrorsTest {
    private final List<Throwable> exits = new ArrayList<>();
    private Consumer<Throwable> saved;

    @BeforeEach
    void recordInsteadOfExiting() {
        saved = FatalErrors.action;
        FatalErrors.action = exits::add;
    }

    @AfterEach
    void restore() {
        FatalErrors.action = saved;
    }

    @Test
    void aVirtualMachineErrorEndsTheProcessWhereverItIsInTheChain() {
        OutOfMemoryError direct = new OutOfMemoryError("Cannot reserve 4194304 bytes of direct buffer memory");
        FatalErrors.exitIfFatal(direct);
        StackOverflowError deep = new StackOverflowError();
        FatalErrors.exitIfFatal(new RuntimeException("wrapped", deep));
        assertEquals(List.of(direct, deep), exits);
    }

    @Test
    void ordinaryFailuresDoNot() {
        FatalErrors.exitIfFatal(new IOException("Connection reset by peer"));
        FatalErrors.exitIfFatal(new IllegalStateException("bug", new AssertionError()));
        assertEquals(List.of(), exits);
    }

    /** What the pipelines call, with the fatal action swapped for a test's own. */
    public static void recording(List<Throwable> into, Runnable body) {
        Consumer<Throwable> saved = FatalErrors.action;
        FatalErrors.action = into::add;
        try {
            body.run();
        } finally {
            FatalErrors.action = saved;
        }
    }
}
