package nangogateway.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Hands SIGHUP, SIGTERM and SIGINT to a callback instead of the JVM's default (which treats HUP like TERM and
 * exits 129/143). The callback runs on the JVM's signal thread, so it should only hand the work on. Closing
 * restores the handlers that were there before.
 */
final class ProcessSignals implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProcessSignals.class);
    static final String[] HANDLED = {"HUP", "TERM", "INT"};

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private ProcessSignals() {
    }

    /** Installs what it can; a signal the VM reserves (e.g. under {@code -Xrs}) is logged and left alone. */
    static ProcessSignals install(Consumer<String> onSignal) {
        ProcessSignals signals = new ProcessSignals();
        for (String name : HANDLED) {
            Signal signal = new Signal(name);
            try {
                signals.previous.put(signal, Signal.handle(signal, s -> onSignal.accept(s.getName())));
            } catch (IllegalArgumentException e) {
                log.warn("cannot handle SIG{} ({}); it keeps the JVM's default action", name, e.getMessage());
            }
        }
        return signals;
    }

    boolean handles(String name) {
        return previous.keySet().stream().anyMatch(s -> s.getName().equals(name));
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
        previous.clear();
    }
}
