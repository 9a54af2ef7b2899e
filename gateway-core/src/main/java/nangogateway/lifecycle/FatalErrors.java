package nangogateway.lifecycle;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link VirtualMachineError} (out of heap or direct memory, a stack overflow, an internal error) leaves the JVM
 * in a state no handler can vouch for, and when it strikes an event loop the loop may die while the process lives
 * on: every connection on it hangs and systemd sees nothing wrong. Such an error ends the process at once, with an
 * exit status systemd's {@code Restart=on-failure} acts on.
 */
public final class FatalErrors {
    private static final Logger log = LoggerFactory.getLogger(FatalErrors.class);
    /** sysexits' EX_SOFTWARE. */
    public static final int EXIT_STATUS = 70;

    /** What ending the process means; tests put their own here. */
    static volatile Consumer<Throwable> action = t -> Runtime.getRuntime().halt(EXIT_STATUS);

    private FatalErrors() {
    }

    /** Ends the process when {@code t}, or anything that caused it, is a {@link VirtualMachineError}. */
    public static void exitIfFatal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof VirtualMachineError) {
                try {
                    log.error("fatal: {} on {}; exiting with status {} so the service is restarted", c,
                            Thread.currentThread().getName(), EXIT_STATUS);
                    System.err.println("nango-gateway: fatal " + c + "; exiting");
                } catch (Throwable ignored) {
                    // logging may itself fail when memory is gone; the exit must not
                }
                action.accept(c);
                return;
            }
        }
    }
}
