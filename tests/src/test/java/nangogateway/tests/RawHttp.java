package nangogateway.tests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A raw-socket HTTP/1.1 client: sends exactly the bytes given and parses what comes back. */
public final class RawHttp implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** One exchange on a fresh connection. */
    public static Response exchange(int port, String request) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            c.send(request);
            return c.read();
        }
    }

    public void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    public void setTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Reads one response (null if the connection closed first); a HEAD response must be read with readHead. */
    public Response read() throws IOException {
        return read(false);
    }

    public Response readHead() throws IOException {
        return read(true);
    }

    private Response read(boolean headOnly) throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            return null;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while ((line = readLine()) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean noBody = headOnly || status == 204 || status == 304 || (status >= 100 && status < 200);
        if (!noBody) {
            List<String> te = headers.get("transfer-encoding");
            List<String> cl = headers.get("content-length");
            if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
                while (true) {
                    int size = Integer.parseInt(readLine().split(";")[0].trim(), 16);
                    if (size == 0) {
                        while (!readLine().isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    body.write(in.readNBytes(size));
                    readLine();
                }
            } else if (cl != null) {
                body.write(in.readNBytes(Integer.parseInt(cl.get(0))));
            } else {
                body.write(in.readAllBytes());
            }
        }
        return new Response(statusLine, status, headers, body.toByteArray());
    }

    /** True when the peer closed the connection (reads EOF within the timeout). */
    public boolean isClosedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public record Response(String statusLine, int status, Map<String, List<String>> headers, byte[] body) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        public List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
