package nangogateway.tests;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A raw HTTP/2 client for abuse tests: a TLS socket that negotiated {@code h2} by ALPN (or a plain one), the client
 * preface, and frames written by hand, so any frame sequence and any header byte can be sent. Header blocks are
 * built with HPACK literals without Huffman ({@link Block}), so names and values go on the wire exactly as given.
 *
 * <p>What the server sends back is read frame by frame: SETTINGS and PING are acknowledged (unless told not to),
 * HEADERS blocks are decoded with Netty's HPACK decoder (one per connection, as the dynamic table is), and each
 * stream's outcome ({@link StreamResult}: response head, body, end, reset) and any GOAWAY are kept. Every read is
 * bounded by the socket timeout.
 */
final class H2Wire implements AutoCloseable {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int PRIORITY = 0x2;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PUSH_PROMISE = 0x5;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;
    static final int CONTINUATION = 0x9;

    static final int END_STREAM = 0x1;
    static final int ACK = 0x1;
    static final int END_HEADERS = 0x4;
    static final int PADDED = 0x8;
    static final int PRIORITY_FLAG = 0x20;

    static final long NO_ERROR = 0x0;
    static final long PROTOCOL_ERROR = 0x1;
    static final long FLOW_CONTROL_ERROR = 0x3;
    static final long STREAM_CLOSED = 0x5;
    static final long REFUSED_STREAM = 0x7;
    static final long CANCEL = 0x8;
    static final long COMPRESSION_ERROR = 0x9;
    static final long ENHANCE_YOUR_CALM = 0xb;

    /** One frame as read: type, flags, stream and payload. */
    record Frame(int type, int flags, int stream, byte[] payload) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        /** The error code of a RST_STREAM or GOAWAY. */
        long errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return u32(payload, at);
        }

        /** A GOAWAY's last stream id. */
        int lastStreamId() {
            return (int) (u32(payload, 0) & 0x7fffffff);
        }

        @Override
        public String toString() {
            return "Frame[type=" + type + " flags=0x" + Integer.toHexString(flags) + " stream=" + stream + " length="
                    + payload.length + (type == RST_STREAM || type == GOAWAY ? " error=" + errorCode() : "") + "]";
        }
    }

    /** What the server has sent on one stream so far. */
    static final class StreamResult {
        final List<Http2Headers> heads = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean ended;
        /**
         * The first RST_STREAM's code, or -1: the answer. Frames the client had already sent on the stream may draw
         * more (STREAM_CLOSED); all are in {@link #resets}.
         */
        long reset = -1;
        final List<Long> resets = new ArrayList<>();

        /** The final response's :status, or -1 when none came. */
        int status() {
            for (int i = heads.size() - 1; i >= 0; i--) {
                CharSequence s = heads.get(i).status();
                if (s != null) {
                    return Integer.parseInt(s.toString());
                }
            }
            return -1;
        }

        String bodyText() {
            return body.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return "status=" + status() + " ended=" + ended + " resets=" + resets + " heads=" + heads + " body="
                    + bodyText();
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    private final Map<Integer, StreamResult> streams = new HashMap<>();
    private final List<Frame> frames = new ArrayList<>();
    private ByteArrayOutputStream pendingBlock;
    private int pendingStream;
    private boolean pendingEndStream;
    private Frame goAway;
    private boolean closed;
    private boolean acknowledge = true;
    private boolean giveWindowsBack = true;
    private boolean settingsSeen;
    private long connectionWindow = 65_535;
    private final Map<Integer, Long> streamWindows = new HashMap<>();
    private long initialStreamWindow = 65_535;

    private H2Wire(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(5_000);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** A TLS connection that negotiated {@code h2}, preface and an empty SETTINGS sent. */
    static H2Wire tls(int port) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5_000);
        SSLParameters params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(params);
        s.startHandshake();
        if (!"h2".equals(s.getApplicationProtocol())) {
            s.close();
            throw new IllegalStateException("ALPN chose " + s.getApplicationProtocol() + ", not h2");
        }
        H2Wire w = new H2Wire(s);
        w.write(PREFACE);
        w.frame(SETTINGS, 0, 0, new byte[0]);
        // The server's limits (concurrent streams, header list size) hold once its SETTINGS are acknowledged.
        while (!w.settingsSeen) {
            if (!w.pump()) {
                w.close();
                throw new EOFException("closed before the server's SETTINGS");
            }
        }
        return w;
    }

    /** A plain TCP connection; nothing sent yet. */
    static H2Wire plain(int port) throws IOException {
        return new H2Wire(new Socket("127.0.0.1", port));
    }

    /** Stop (or go on) giving the server's DATA back as WINDOW_UPDATEs: off, the server's send windows run down. */
    void giveWindowsBack(boolean on) {
        giveWindowsBack = on;
    }

    /** Stop (or go on) answering the server's SETTINGS and PING frames. */
    void acknowledge(boolean on) {
        acknowledge = on;
    }

    /**
     * TCP_NODELAY, as browsers set it: a small frame written right after another (a WINDOW_UPDATE, then the next
     * HEADERS) then goes at once instead of waiting for the server's delayed ACK of the first (about 40 ms). Off by
     * default, so that a burst written at once tends to reach the server in one read, which some cases rely on.
     */
    void noDelay() throws IOException {
        socket.setTcpNoDelay(true);
    }

    void timeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    // ------------------------------------------------------------------------------------------------ writing

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        write(encode(type, flags, stream, payload));
    }

    /** A frame's bytes: the 9-byte header (length, type, flags, stream) and the payload. */
    static byte[] encode(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) ((stream >>> 24) & 0x7f);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** One HEADERS frame carrying the whole block (END_HEADERS). */
    void headers(int stream, boolean endStream, Block block) throws IOException {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block.bytes());
    }

    void data(int stream, boolean endStream, byte[] bytes) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, stream, bytes);
    }

    void rst(int stream, long code) throws IOException {
        frame(RST_STREAM, 0, stream, u32(code));
    }

    void windowUpdate(int stream, long increment) throws IOException {
        frame(WINDOW_UPDATE, 0, stream, u32(increment));
    }

    /**
     * A body in DATA frames of at most 16 KiB, within the send windows the server grants (its WINDOW_UPDATEs are
     * read while waiting); the last frame ends the stream.
     */
    void body(int stream, byte[] bytes) throws IOException {
        int at = 0;
        while (at < bytes.length) {
            long window = Math.min(connectionWindow, streamWindows.getOrDefault(stream, initialStreamWindow));
            if (window <= 0) {
                if (!pump()) {
                    throw new EOFException("connection closed with " + (bytes.length - at) + " body bytes unsent");
                }
                continue;
            }
            int n = (int) Math.min(Math.min(16_384, window), bytes.length - at);
            byte[] piece = new byte[n];
            System.arraycopy(bytes, at, piece, 0, n);
            at += n;
            connectionWindow -= n;
            streamWindows.put(stream, streamWindows.getOrDefault(stream, initialStreamWindow) - n);
            data(stream, at == bytes.length, piece);
        }
    }

    static byte[] u32(long v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static long u32(byte[] b, int at) {
        return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8) | (b[at + 3] & 0xffL);
    }

    // ------------------------------------------------------------------------------------------------ reading

    /** Every frame read so far, in order. */
    List<Frame> frames() {
        return frames;
    }

    StreamResult stream(int id) {
        return streams.computeIfAbsent(id, k -> new StreamResult());
    }

    /** The GOAWAY received, or null. */
    Frame goAway() {
        return goAway;
    }

    boolean closed() {
        return closed;
    }

    /**
     * Reads and handles one frame. False when the connection has closed (EOF, reset); a read that times out throws
     * {@link SocketTimeoutException}.
     */
    boolean pump() throws IOException {
        if (closed) {
            return false;
        }
        Frame f;
        try {
            f = readFrame();
        } catch (EOFException | SocketException | SSLException e) {
            if (e instanceof SSLException && e.getCause() instanceof SocketTimeoutException t) {
                throw t;
            }
            closed = true;
            return false;
        }
        if (f == null) {
            closed = true;
            return false;
        }
        frames.add(f);
        handle(f);
        return true;
    }

    private Frame readFrame() throws IOException {
        byte[] head = new byte[9];
        if (!readFully(head, true)) {
            return null;
        }
        int length = ((head[0] & 0xff) << 16) | ((head[1] & 0xff) << 8) | (head[2] & 0xff);
        int stream = (int) (u32(head, 5) & 0x7fffffff);
        byte[] payload = new byte[length];
        readFully(payload, false);
        return new Frame(head[3] & 0xff, head[4] & 0xff, stream, payload);
    }

    private boolean readFully(byte[] b, boolean eofAllowed) throws IOException {
        int at = 0;
        while (at < b.length) {
            int n = in.read(b, at, b.length - at);
            if (n < 0) {
                if (at == 0 && eofAllowed) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame");
            }
            at += n;
        }
        return true;
    }

    private void handle(Frame f) throws IOException {
        switch (f.type()) {
            case SETTINGS -> {
                if (!f.has(ACK)) {
                    for (int i = 0; i + 6 <= f.payload().length; i += 6) {
                        int id = ((f.payload()[i] & 0xff) << 8) | (f.payload()[i + 1] & 0xff);
                        if (id == 0x4) {
                            long v = u32(f.payload(), i + 2);
                            for (Map.Entry<Integer, Long> e : streamWindows.entrySet()) {
                                e.setValue(e.getValue() + v - initialStreamWindow);
                            }
                            initialStreamWindow = v;
                        }
                    }
                    settingsSeen = true;
                    if (acknowledge) {
                        reply(SETTINGS, ACK, 0, new byte[0]);
                    }
                }
            }
            case PING -> {
                if (!f.has(ACK) && acknowledge) {
                    reply(PING, ACK, 0, f.payload());
                }
            }
            case GOAWAY -> goAway = f;
            case WINDOW_UPDATE -> {
                long inc = u32(f.payload(), 0) & 0x7fffffff;
                if (f.stream() == 0) {
                    connectionWindow += inc;
                } else {
                    streamWindows.put(f.stream(), streamWindows.getOrDefault(f.stream(), initialStreamWindow) + inc);
                }
            }
            case RST_STREAM -> {
                StreamResult r = stream(f.stream());
                r.resets.add(f.errorCode());
                if (r.reset < 0) {
                    r.reset = f.errorCode();
                }
            }
            case DATA -> {
                StreamResult r = stream(f.stream());
                r.body.write(unpad(f));
                if (f.has(END_STREAM)) {
                    r.ended = true;
                }
                if (f.payload().length > 0 && giveWindowsBack) { // so a long response never stalls
                    reply(WINDOW_UPDATE, 0, 0, u32(f.payload().length));
                    if (!r.ended) {
                        reply(WINDOW_UPDATE, 0, f.stream(), u32(f.payload().length));
                    }
                }
            }
            case HEADERS -> {
                byte[] p = unpad(f);
                int skip = f.has(PRIORITY_FLAG) ? 5 : 0;
                pendingBlock = new ByteArrayOutputStream();
                pendingBlock.write(p, skip, p.length - skip);
                pendingStream = f.stream();
                pendingEndStream = f.has(END_STREAM);
                if (f.has(END_HEADERS)) {
                    endBlock();
                }
            }
            case CONTINUATION -> {
                if (pendingBlock == null) {
                    throw new IOException("CONTINUATION without HEADERS from the server");
                }
                pendingBlock.write(f.payload());
                if (f.has(END_HEADERS)) {
                    endBlock();
                }
            }
            default -> { }
        }
    }

    /** An answer the protocol asks of a client; a connection the server has closed is seen by the next read. */
    private void reply(int type, int flags, int stream, byte[] payload) {
        try {
            frame(type, flags, stream, payload);
        } catch (IOException e) {
            // the next read reports the close
        }
    }

    private void endBlock() throws IOException {
        ByteBuf block = Unpooled.wrappedBuffer(pendingBlock.toByteArray());
        try {
            StreamResult r = stream(pendingStream);
            r.heads.add(decoder.decodeHeaders(pendingStream, block));
            if (pendingEndStream) {
                r.ended = true;
            }
        } catch (Http2Exception e) {
            throw new IOException("the server's header block does not decode", e);
        } finally {
            block.release();
            pendingBlock = null;
        }
    }

    private static byte[] unpad(Frame f) {
        byte[] p = f.payload();
        if (!f.has(PADDED)) {
            return p;
        }
        int pad = p[0] & 0xff;
        byte[] out = new byte[p.length - 1 - pad];
        System.arraycopy(p, 1, out, 0, out.length);
        return out;
    }

    /** Reads until the stream has ended (END_STREAM) or been reset, or the connection is gone. */
    StreamResult awaitEnd(int stream) throws IOException {
        StreamResult r = stream(stream);
        while (!r.ended && r.reset < 0 && goAway == null && pump()) {
            // reading
        }
        return r;
    }

    /** Reads until the stream has been reset, or the connection is gone; a read that times out throws. */
    StreamResult awaitReset(int stream) throws IOException {
        StreamResult r = stream(stream);
        while (r.reset < 0 && goAway == null && pump()) {
            // reading
        }
        return r;
    }

    /** Reads until a GOAWAY arrives; null when the connection closed without one. */
    Frame awaitGoAway() throws IOException {
        while (goAway == null && pump()) {
            // reading
        }
        return goAway;
    }

    /** Reads (and drops) until the server closes the connection; a read that times out throws. */
    void awaitClose() throws IOException {
        while (pump()) {
            // reading
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    // ------------------------------------------------------------------------------------------------ HPACK

    /**
     * A header block written by hand: literal fields without indexing and without Huffman (any byte goes as is),
     * literals added to the dynamic table, and references to table entries.
     */
    static final class Block {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** A request's pseudo-header fields in the usual order: :method, :scheme https, :authority, :path. */
        static Block request(String method, String path) {
            return new Block().field(":method", method).field(":scheme", "https").field(":authority", "gw.example")
                    .field(":path", path);
        }

        /** Literal header field without indexing, new name (RFC 7541 section 6.2.2). */
        Block field(String name, String value) {
            out.write(0x00);
            string(name);
            string(value);
            return this;
        }

        /** Literal header field with incremental indexing, new name (section 6.2.1): enters the dynamic table. */
        Block indexedField(String name, String value) {
            out.write(0x40);
            string(name);
            string(value);
            return this;
        }

        /** Indexed header field (section 6.1): static table 1-61, dynamic table from 62. */
        Block ref(int index) {
            integer(7, 0x80, index);
            return this;
        }

        Block raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
            integer(7, 0x00, b.length); // H = 0: raw octets
            out.writeBytes(b);
        }

        private void integer(int prefixBits, int flags, long value) {
            int max = (1 << prefixBits) - 1;
            if (value < max) {
                out.write(flags | (int) value);
                return;
            }
            out.write(flags | max);
            value -= max;
            while (value >= 128) {
                out.write((int) (value % 128) + 128);
                value /= 128;
            }
            out.write((int) value);
        }
    }
}
