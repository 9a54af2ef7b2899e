package nangogateway.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import nangogateway.net.Transport;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.Buffer;
import okio.ByteString;
import org.junit.jupiter.api.Test;

/** Back-pressure in both directions and the WebSocket tunnel. */
class StreamingTest extends MockNangoTest {
    @Override
    protected Duration responseTimeout() {
        return Duration.ofSeconds(5);
    }

    @Test
    void aSlowReaderDoesNotMakeTheGatewayBufferTheResponse() throws Exception {
        int size = 50 * 1024 * 1024;
        Buffer big = new Buffer();
        byte[] block = new byte[1024 * 1024];
        for (int i = 0; i < 50; i++) {
            java.util.Arrays.fill(block, (byte) ('a' + i % 26));
            big.write(block);
        }
        nango.enqueue(new MockResponse.Builder().body(big).build());
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /proxy/files/big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long read = readAtLeast(in, buf, 1024 * 1024);
            // The client stops reading. Whatever the gateway holds for it must stay small: it stops reading Nango.
            Thread.sleep(1000);
            // Bytes held by live buffers of the gateway's allocator (the test's own client does not use Netty); the
            // pool's chunks stay reserved after use, so what counts is what is pinned now.
            PooledByteBufAllocator alloc = (PooledByteBufAllocator) Transport.ALLOCATOR;
            long held = alloc.pinnedDirectMemory() + alloc.pinnedHeapMemory();
            assertTrue(held < 16L * 1024 * 1024, "gateway buffers " + held + " bytes for a stalled client");
            long total = read + readAtLeast(in, buf, size + 40L - read); // the head is over 40 bytes
            assertTrue(total >= size + 40L, "whole response arrived: " + total);
        }
    }

    /** Reads until at least {@code min} bytes or EOF; returns what it read. */
    private static long readAtLeast(InputStream in, byte[] buf, long min) throws Exception {
        long n = 0;
        int r;
        while (n < min && (r = in.read(buf)) != -1) {
            n += r;
        }
        return n;
    }

    @Test
    void streamsALargeUploadToNango() throws Exception {
        nango.enqueue(new MockResponse.Builder().body("stored").build());
        int size = 20 * 1024 * 1024;
        try (RawHttp c = new RawHttp(port)) {
            c.send("POST /proxy/2/files/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + size + "\r\n\r\n");
            byte[] chunk = new byte[256 * 1024];
            java.util.Arrays.fill(chunk, (byte) 'z');
            for (int sent = 0; sent < size; sent += chunk.length) {
                c.send(chunk);
            }
            RawHttp.Response r = c.read();
            assertEquals(200, r.status());
            assertEquals("stored", r.bodyText());
        }
        RecordedRequest seen = nango.takeRequest(5, TimeUnit.SECONDS);
        assertEquals(size, seen.getBodySize());
        assertEquals(String.valueOf(size), seen.getHeaders().get("Content-Length"));
    }

    @Test
    void tunnelsAWebSocketAfterNangos101() throws Exception {
        nango.enqueue(new MockResponse.Builder().webSocketUpgrade(new WebSocketListener() {
            @Override
            public void onMessage(WebSocket ws, String text) {
                ws.send("echo:" + text);
            }

            @Override
            public void onMessage(WebSocket ws, ByteString bytes) {
                ws.send(bytes);
            }

            @Override
            public void onClosing(WebSocket ws, int code, String reason) {
                ws.close(code, null);
            }
        }).build());
        OkHttpClient client = new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(10)).build();
        BlockingQueue<String> received = new ArrayBlockingQueue<>(10);
        WebSocket ws = client.newWebSocket(new Request.Builder().url("ws://127.0.0.1:" + port + "/").build(),
                new WebSocketListener() {
                    @Override
                    public void onOpen(WebSocket webSocket, Response response) {
                        received.add("open:" + response.code());
                    }

                    @Override
                    public void onMessage(WebSocket webSocket, String text) {
                        received.add(text);
                    }

                    @Override
                    public void onMessage(WebSocket webSocket, ByteString bytes) {
                        received.add("bytes:" + bytes.size());
                    }

                    @Override
                    public void onFailure(WebSocket webSocket, Throwable t, Response response) {
                        received.add("failure:" + t);
                    }
                });
        try {
            assertEquals("open:101", received.poll(10, TimeUnit.SECONDS));
            ws.send("hello");
            assertEquals("echo:hello", received.poll(10, TimeUnit.SECONDS));
            ws.send(ByteString.of(new byte[200_000]));
            assertEquals("bytes:200000", received.poll(10, TimeUnit.SECONDS));
            RecordedRequest upgrade = nango.takeRequest(5, TimeUnit.SECONDS);
            assertEquals("websocket", upgrade.getHeaders().get("Upgrade"));
            assertEquals("13", upgrade.getHeaders().get("Sec-WebSocket-Version"));
        } finally {
            ws.close(1000, "bye");
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }

    @Test
    void aNonUpgradeAnswerToAnUpgradeStaysHttp() throws Exception {
        nango.enqueue(new MockResponse.Builder().code(400).body("no").build());
        nango.enqueue(new MockResponse.Builder().code(200).body("plain").build());
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(400, r.status());
            assertEquals("no", r.bodyText());
        }
        // a plain GET / is not a WebSocket upgrade: no route takes it
        assertEquals(403, RawHttp.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").status());
    }
}
