package nangogateway.tests;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Pieces of the raw-socket stand-ins for Nango: an accept loop and reading past a request head. */
final class StandIn {
    private StandIn() {
    }

    /** Accepts on {@code server} until it closes, counting connections, each served on its own daemon thread. */
    static void acceptEach(ServerSocket server, AtomicInteger connections, Consumer<Socket> serve) {
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve.accept(s));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Reads through the next CRLF CRLF; false when the stream ended first. */
    static boolean skipHead(InputStream in) throws IOException {
        int matched = 0;
        while (matched < 4) {
            int c = in.read();
            if (c < 0) {
                return false;
            }
            matched = c == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : (c == '\r' ? 1 : 0);
        }
        return true;
    }
}
