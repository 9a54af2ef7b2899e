package nangogateway.tests.browser;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The app's own web server (a different site, 127.0.0.3, from the gateway): serves the test page
 * ({@code tests/browser/app/index.html}) at {@code /} and the unmodified {@code @nangohq/frontend} dist files
 * at {@code /sdk/}, which the page loads through an import map.
 */
final class AppServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final Path page;
    private final Path sdk;

    AppServer(Path browserDir) throws IOException {
        page = browserDir.resolve("app/index.html");
        sdk = browserDir.resolve("node_modules/@nangohq/frontend/dist").toAbsolutePath().normalize();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.3"), 0), 16);
        server.setExecutor(executor);
        server.createContext("/", this::serve);
        server.start();
    }

    String origin() {
        return "http://127.0.0.3:" + server.getAddress().getPort();
    }

    private void serve(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            Path file = null;
            String type = "text/html; charset=utf-8";
            if ("/".equals(path)) {
                file = page;
            } else if (path.startsWith("/sdk/") && path.matches("/sdk/[A-Za-z0-9_-]+\\.js(\\.map)?")) {
                file = sdk.resolve(path.substring(5));
                type = path.endsWith(".map") ? "application/json" : "text/javascript; charset=utf-8";
            }
            if (file == null || !Files.isRegularFile(file)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            byte[] body = Files.readAllBytes(file);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
