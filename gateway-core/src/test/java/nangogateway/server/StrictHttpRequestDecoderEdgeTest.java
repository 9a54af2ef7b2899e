package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import nangogateway.config.ListenerLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The strict request decoder at its edges: the grammar of trailer lines and chunk extensions (which Node's llhttp,
 * Nango's parser, also refuses when malformed), split/one-write equivalence, limits at their exact boundaries, close
 * and removal mid-message, and reference counts of every buffer (tracked through the channel's allocator).
 */
class StrictHttpRequestDecoderEdgeTest {
    private static final String CHUNKED_HEAD =
            "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    private static final String CHUNKED_HEAD_EVENT = "HEAD POST /x HTTP/1.1 [Host=h] [Transfer-Encoding=chunked]";

    // ---- harness ----

    /** Remembers every buffer it hands out, so each one's reference count can be checked at the end. */
    private static final class TrackingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> made = new ArrayList<>();

        TrackingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static int[] every(int step, int length) {
        int[] cuts = new int[Math.max(0, (length - 1) / step)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (i + 1) * step;
        }
        return cuts;
    }

    private static String kind(Throwable t) {
        if (t instanceof TooLongHttpLineException) {
            return "414";
        }
        if (t instanceof TooLongHttpHeaderException) {
            return "431";
        }
        return t.getClass().getSimpleName().equals("PrematureChannelClosureException") ? "CLOSED" : "400";
    }

    /**
     * Feeds {@code in} cut at {@code cuts}; then closes the input ({@code close}), or removes the decoder after
     * the last write ({@code remove}). Returns what came out as events (body pieces merged, raw leftovers as RAW),
     * after checking: no exception escaped, nothing after a failure, every buffer released in the end.
     */
    private static List<String> decode(byte[] in, int[] cuts, boolean close, boolean remove) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast("decoder", new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS));
        List<Object> msgs = new ArrayList<>();
        List<String> events = new ArrayList<>();
        try {
            int prev = 0;
            for (int k = 0; k <= cuts.length; k++) {
                int end = k < cuts.length ? cuts[k] : in.length;
                if (end > prev) {
                    ByteBuf b = alloc.heapBuffer(end - prev);
                    b.writeBytes(in, prev, end - prev);
                    ch.writeInbound(b);
                }
                prev = end;
                drainInto(ch, msgs);
            }
            if (remove) {
                ch.pipeline().remove("decoder");
            }
            if (close) {
                ch.finish();
            }
            drainInto(ch, msgs);
            StringBuilder body = new StringBuilder();
            boolean failed = false;
            for (Object o : msgs) {
                if (failed && !(o instanceof ByteBuf)) {
                    fail("a message after the failure: " + o);
                }
                if (o instanceof HttpRequest r) {
                    if (r.decoderResult().isFailure()) {
                        events.add("FAIL:" + kind(r.decoderResult().cause()));
                        failed = true;
                        continue;
                    }
                    StringBuilder h = new StringBuilder("HEAD ").append(r.method().name()).append(' ')
                            .append(r.uri()).append(' ').append(r.protocolVersion().text());
                    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = r.headers().iteratorCharSequence();
                            it.hasNext(); ) {
                        Map.Entry<CharSequence, CharSequence> e = it.next();
                        h.append(" [").append(e.getKey()).append('=').append(e.getValue()).append(']');
                    }
                    if (r instanceof FullHttpRequest f) {
                        assertFalse(f.content().isReadable(), "a whole request has no content");
                        h.append(" FULL");
                    }
                    events.add(h.toString());
                } else if (o instanceof HttpContent c) {
                    if (c.decoderResult().isFailure()) {
                        flush(events, body);
                        events.add("BODYFAIL:" + kind(c.decoderResult().cause()));
                        failed = true;
                        continue;
                    }
                    assertTrue(c.content().readableBytes() <= 64 * 1024, "piece over 64 KiB");
                    body.append(c.content().toString(StandardCharsets.ISO_8859_1));
                    if (o instanceof LastHttpContent) {
                        flush(events, body);
                        events.add("END");
                    }
                } else if (o instanceof ByteBuf b) {
                    flush(events, body);
                    events.add("RAW:" + b.toString(StandardCharsets.ISO_8859_1));
                } else {
                    fail("unexpected message " + o);
                }
            }
            flush(events, body);
        } finally {
            msgs.forEach(ReferenceCountUtil::release);
            ch.finishAndReleaseAll();
        }
        for (ByteBuf b : alloc.made) {
            assertEquals(0, b.refCnt(), () -> "a buffer was not released; events " + events);
        }
        return events;
    }

    private static void drainInto(EmbeddedChannel ch, List<Object> msgs) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            msgs.add(o);
        }
    }

    private static void flush(List<String> events, StringBuilder body) {
        if (body.length() > 0) {
            events.add("BODY:" + body);
            body.setLength(0);
        }
    }

    private static List<String> oneWrite(String s) {
        return decode(bytes(s), new int[0], false, false);
    }

    // ---- grammar ----

    /**
     * Trailer lines are field lines, held to the same grammar as header lines, though they are dropped: a bare CR
     * at the start of one would otherwise hide what follows it up to the next empty line (here a whole request).
     * NUL, a bare CR inside a line, a line without a colon, whitespace before the colon and obs-fold are refused.
     */
    @ParameterizedTest(name = "[{index}] trailer {0}")
    @ValueSource(strings = {
        "\rGET /api/v1/meta HTTP/1.1\r\nHost: h\r\n\r\n",
        "X: a\u0000b\r\n\r\n",
        "X: a\rb\r\n\r\n",
        "no-colon\r\n\r\n",
        "X : a\r\n\r\n",
        "X: a\r\n folded\r\n\r\n",
    })
    void trailerLinesAreHeldToTheFieldLineGrammar(String trailer) {
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODYFAIL:400"), oneWrite(CHUNKED_HEAD + "0\r\n" + trailer));
    }

    /**
     * A chunk extension's quoted string must close on its line: a reader that let it run past the CRLF would end
     * the chunk elsewhere.
     */
    @ParameterizedTest(name = "[{index}] chunk line {0}")
    @ValueSource(strings = {"5;a=\"", "5;a=\"x", "5;a=\"x\\\""})
    void chunkExtensionQuotedStringMustBeClosedOnItsLine(String sizeLine) {
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODYFAIL:400"),
                oneWrite(CHUNKED_HEAD + sizeLine + "\r\nhello\r\n0\r\n\r\n"));
    }

    /** A request line over the limit is refused for its length (414) however it arrives, malformed or not. */
    @Test
    void theRefusalOfALongMalformedRequestLineDoesNotDependOnTheSplit() {
        byte[] in = bytes("GET  /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(decode(in, new int[0], false, false), decode(in, every(1000, in.length), false, false));
    }

    // ---- limits, splits, closes, removal ----

    @Test
    void limitsHoldAtTheirExactBoundariesForAnySplit() {
        String host = "Host: h\r\n";
        String line8192 = "GET /" + "a".repeat(8192 - "GET / HTTP/1.1".length()) + " HTTP/1.1";
        String line8193 = "GET /" + "a".repeat(8193 - "GET / HTTP/1.1".length()) + " HTTP/1.1";
        String block16384 = host + "X-Pad: " + "p".repeat(16384 - host.length() - 9) + "\r\n";
        String block16385 = host + "X-Pad: " + "p".repeat(16385 - host.length() - 9) + "\r\n";
        StringBuilder f100 = new StringBuilder(host);
        for (int i = 1; i < 100; i++) {
            f100.append("X-").append(i).append(": v\r\n");
        }
        String[][] cases = {
            {line8192 + "\r\n" + block16384 + "\r\n", "HEAD"},
            {line8193 + "\r\n" + host + "\r\n", "FAIL:414"},
            {"GET / HTTP/1.1\r\n" + block16385 + "\r\n", "FAIL:431"},
            {"GET / HTTP/1.1\r\n" + f100 + "\r\n", "HEAD"},
            {"GET / HTTP/1.1\r\n" + f100 + "X-100: v\r\n\r\n", "FAIL:431"},
        };
        for (String[] c : cases) {
            byte[] in = bytes(c[0]);
            List<String> one = decode(in, new int[0], false, false);
            assertEquals(1, one.size(), () -> c[1] + ": " + one);
            assertTrue(one.get(0).startsWith(c[1]), () -> c[1] + ": " + one.get(0).substring(0, 40));
            assertEquals(one, decode(in, every(in.length < 4000 ? 1 : 5, in.length), false, false));
            assertEquals(one, decode(in, every(4093, in.length), false, false));
        }
    }

    @Test
    void chunkSizeLineAndTrailerLimitsHoldAtTheirBoundaries() {
        // the chunk size line may be 4096 bytes with its CRLF; the trailer section 16384 with its empty line
        String ext4096 = "5;" + "e".repeat(4096 - 4);
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODY:hello", "END"),
                oneWrite(CHUNKED_HEAD + ext4096 + "\r\nhello\r\n0\r\n\r\n"));
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODYFAIL:400"),
                oneWrite(CHUNKED_HEAD + ext4096 + "e\r\nhello\r\n0\r\n\r\n"));
        String trailer16384 = "X-T: " + "t".repeat(16384 - 2 - 7) + "\r\n\r\n";
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "END"), oneWrite(CHUNKED_HEAD + "0\r\n" + trailer16384));
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODYFAIL:400"),
                oneWrite(CHUNKED_HEAD + "0\r\nX" + trailer16384));
    }

    /** Every prefix of a request with a body, then a close: whatever arrived goes on, and a cut body ends failed. */
    @Test
    void aCloseAtAnyPointEndsACutBodyWithAFailedPiece() {
        String[] requests = {
            CHUNKED_HEAD + "5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: v\r\n\r\n",
            "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
        };
        for (String req : requests) {
            byte[] all = bytes(req);
            for (int n = 0; n <= all.length; n++) {
                int cut = n;
                byte[] in = java.util.Arrays.copyOf(all, n);
                List<String> ev = decode(in, every(3, n), true, false);
                boolean head = !ev.isEmpty() && ev.get(0).startsWith("HEAD");
                if (n == all.length) {
                    assertEquals("END", ev.get(ev.size() - 1), req);
                } else if (head) {
                    assertEquals("BODYFAIL:CLOSED", ev.get(ev.size() - 1), () -> cut + ": " + ev);
                } else {
                    assertEquals(List.of(), ev, () -> cut + ": " + ev);
                }
            }
        }
    }

    /** Removing the decoder (as the tunnel does after a 101) hands the bytes it holds on unchanged. */
    @Test
    void removalHandsHeldBytesOnRaw() {
        String first = "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n";
        assertEquals(List.of("HEAD GET /ws HTTP/1.1 [Host=h] FULL", "RAW:GET /next HT"),
                decode(bytes(first + "GET /next HT"), new int[] {5, 40}, false, true));
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "BODY:hello", "RAW:6;ab"),
                decode(bytes(CHUNKED_HEAD + "5\r\nhello\r\n6;ab"), new int[0], false, true));
        assertEquals(List.of(CHUNKED_HEAD_EVENT, "RAW:X-T: v\r\n"),
                decode(bytes(CHUNKED_HEAD + "0\r\nX-T: v\r\n"), new int[0], false, true));
    }

    @Test
    void holdsBytesOnlyWhileAHeadIsIncomplete() {
        StrictHttpRequestDecoder decoder = new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        try {
            ch.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHo", StandardCharsets.US_ASCII));
            assertTrue(decoder.holdsBytes());
            ch.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("st: h\r\n\r\n", StandardCharsets.US_ASCII));
            assertFalse(decoder.holdsBytes());
            ch.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("GET\t/ HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
            assertFalse(decoder.holdsBytes(), "nothing is held after a failure");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    // ---- seeded differential: one write vs random splits vs one byte at a time ----

    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "M-SEARCH", "get"};
    private static final String[] NAMES = {"Host", "User-Agent", "Accept", "X-A", "Cookie", "Content-Type", "x-b"};
    private static final byte[] INTERESTING = {'\r', '\n', 0, ' ', '\t', 0x7f, (byte) 0x80, (byte) 0xff, ':', '_', ';',
        '"', '0', 'a', 'F', '-', '+', ','};
    private static final String[] FRAMING = {"Content-Length: 5", "Content-Length: 0", "Content-Length: 5 ",
        "Content-Length: 5, 5", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked\t", "Transfer-Encoding: xchunked",
        "Transfer-Encoding : chunked", " Transfer-Encoding: chunked", "Content_Length: 5", "Content-Length: +5"};

    private static String request(Random r) {
        StringBuilder s = new StringBuilder();
        s.append(METHODS[r.nextInt(METHODS.length)]).append(" /");
        for (int i = r.nextInt(12); i > 0; i--) {
            s.append("abcxyz/?=&%.;~".charAt(r.nextInt(14)));
        }
        s.append(r.nextInt(5) == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
        List<String> lines = new ArrayList<>();
        lines.add("Host: example.com");
        for (int i = r.nextInt(4); i > 0; i--) {
            StringBuilder v = new StringBuilder(r.nextBoolean() ? " " : "");
            for (int k = r.nextInt(10); k > 0; k--) {
                v.append((char) (r.nextInt(10) == 0 ? 0x80 + r.nextInt(128) : 0x21 + r.nextInt(0x5e)));
            }
            lines.add(NAMES[r.nextInt(NAMES.length)] + ":" + v + (r.nextInt(6) == 0 ? "\t" : ""));
        }
        StringBuilder body = new StringBuilder();
        switch (r.nextInt(3)) {
            case 1 -> {
                int n = r.nextInt(40);
                lines.add("Content-Length: " + n);
                for (int i = 0; i < n; i++) {
                    body.append((char) r.nextInt(256));
                }
            }
            case 2 -> {
                lines.add("Transfer-Encoding: chunked");
                for (int c = r.nextInt(3); c > 0; c--) {
                    int n = 1 + r.nextInt(30);
                    body.append(Integer.toHexString(n)).append(r.nextInt(4) == 0 ? ";a=b" : "").append("\r\n");
                    for (int i = 0; i < n; i++) {
                        body.append((char) r.nextInt(256));
                    }
                    body.append("\r\n");
                }
                body.append("0\r\n").append(r.nextInt(4) == 0 ? "X-T: v\r\n" : "").append("\r\n");
            }
            default -> { }
        }
        Collections.shuffle(lines, r);
        for (String l : lines) {
            s.append(l).append("\r\n");
        }
        return s.append("\r\n").append(body).toString();
    }

    private static byte[] mutate(byte[] in, Random r) {
        String s = new String(in, StandardCharsets.ISO_8859_1);
        int pos = r.nextInt(s.length() + 1);
        switch (r.nextInt(5)) {
            case 0 -> s = s.substring(0, pos) + (char) (INTERESTING[r.nextInt(INTERESTING.length)] & 0xff)
                    + s.substring(pos);
            case 1 -> s = pos < s.length() ? s.substring(0, pos) + s.substring(pos + 1) : s;
            case 2 -> {
                int at = s.indexOf("\r\n", pos);
                if (at >= 0) {
                    s = s.substring(0, at) + "\r\n" + FRAMING[r.nextInt(FRAMING.length)] + s.substring(at);
                }
            }
            case 3 -> {
                int at = s.indexOf("\r\n", pos);
                if (at >= 0) {
                    s = s.substring(0, at) + (r.nextBoolean() ? "\n" : "\r") + s.substring(at + 2);
                }
            }
            default -> s = s.substring(0, pos);
        }
        return bytes(s);
    }

    @Test
    void splittingNeverChangesWhatIsDecoded() {
        Random r = new Random(20261127L);
        for (int i = 0; i < 250; i++) {
            StringBuilder s = new StringBuilder(r.nextInt(5) == 0 ? "\r\n" : "");
            for (int k = 1 + r.nextInt(2); k > 0; k--) {
                s.append(request(r));
            }
            byte[] valid = bytes(s.toString());
            for (byte[] in : List.of(valid, mutate(valid, r), mutate(mutate(valid, r), r))) {
                boolean close = r.nextBoolean();
                List<String> one = decode(in, new int[0], close, false);
                TreeSet<Integer> cuts = new TreeSet<>();
                for (int k = r.nextInt(5); k > 0 && in.length > 1; k--) {
                    cuts.add(1 + r.nextInt(in.length - 1));
                }
                String shown = new String(in, StandardCharsets.ISO_8859_1);
                assertEquals(one, decode(in, cuts.stream().mapToInt(Integer::intValue).toArray(), close, false),
                        () -> "random split of " + shown);
                assertEquals(one, decode(in, every(1, in.length), close, false), () -> "byte by byte: " + shown);
            }
        }
    }
}
