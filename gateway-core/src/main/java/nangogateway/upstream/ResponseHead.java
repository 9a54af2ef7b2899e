package nangogateway.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import nangogateway.http.Http1;

/**
 * The header lines of one upstream response as {@link UpstreamResponseDecoder} validated them: a copy of the
 * head's bytes and where each line's name and value lie in it. The lines the client may see (every line but the
 * hop-by-hop ones and those the {@code Connection} header names) are copied to the client as they came, so a
 * proxied response is never decoded into a header map and encoded again; {@link #toHeaders()} builds the map
 * only for the code that reads headers (the callback replay, a WebSocket upgrade).
 */
public final class ResponseHead {
    private static final short COLON_SPACE = (short) ((':' << 8) | ' ');
    private static final short CRLF = (short) (('\r' << 8) | '\n');

    private final byte[] bytes;
    /** Per line i: name start, name end, value start, value end (OWS trimmed), at [4i .. 4i+3]. */
    private final int[] lines;
    private final int count;
    /** Lines the client does not get: hop-by-hop, named by {@code Connection}, or framing the gateway re-does. */
    private final boolean[] dropped;
    /** The lines are exactly {@code bytes}, each {@code Name: value CRLF}, none dropped: written in one copy. */
    private final boolean block;

    ResponseHead(byte[] bytes, int[] lines, int count, boolean[] dropped) {
        this(bytes, lines, count, dropped, false);
    }

    private ResponseHead(byte[] bytes, int[] lines, int count, boolean[] dropped, boolean block) {
        this.bytes = bytes;
        this.lines = lines;
        this.count = count;
        this.dropped = dropped;
        this.block = block;
    }

    /**
     * Header lines the gateway writes on every response of a kind (its own status pages), encoded once:
     * {@code fixed("Content-Type", "text/plain", "Cache-Control", "no-store")}. Names must be tokens and values
     * visible ASCII or spaces, as for any line this class writes.
     */
    public static ResponseHead fixed(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values come in pairs");
        }
        int count = namesAndValues.length / 2;
        StringBuilder text = new StringBuilder();
        int[] lines = new int[4 * count];
        for (int i = 0; i < count; i++) {
            String name = namesAndValues[2 * i];
            String value = namesAndValues[2 * i + 1];
            if (name.isEmpty() || !name.chars().allMatch(c -> c < 0x80 && Http1.tchar((byte) c))
                    || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f) || !value.equals(value.trim())) {
                throw new IllegalArgumentException("not a header line: " + name + ": " + value);
            }
            lines[4 * i] = text.length();
            lines[4 * i + 1] = text.append(name).length();
            lines[4 * i + 2] = text.append(": ").length();
            lines[4 * i + 3] = text.append(value).length();
            text.append("\r\n");
        }
        return new ResponseHead(text.toString().getBytes(StandardCharsets.US_ASCII), lines, count, new boolean[count],
                true);
    }

    /** How many header lines the upstream sent. */
    public int size() {
        return count;
    }

    public String name(int i) {
        return new String(bytes, lines[4 * i], lines[4 * i + 1] - lines[4 * i], StandardCharsets.ISO_8859_1);
    }

    public String value(int i) {
        return new String(bytes, lines[4 * i + 2], lines[4 * i + 3] - lines[4 * i + 2], StandardCharsets.ISO_8859_1);
    }

    /**
     * Writes the lines the client may see, as {@code Name: value CRLF}, leaving out any whose name is in
     * {@code gatewaySet}: a header the gateway sets on the response (its request id, HSTS, {@code Connection})
     * replaces the upstream's, as {@link HttpHeaders#set} would.
     */
    public void writeRelayed(ByteBuf out, HttpHeaders gatewaySet) {
        boolean filter = !gatewaySet.isEmpty();
        if (block && (!filter || !namesAnyLine(gatewaySet))) {
            out.writeBytes(bytes);
            return;
        }
        for (int i = 0; i < count; i++) {
            if (dropped[i] || (filter && namedIn(i, gatewaySet))) {
                continue;
            }
            int n = 4 * i;
            out.writeBytes(bytes, lines[n], lines[n + 1] - lines[n]);
            out.writeShort(COLON_SPACE);
            out.writeBytes(bytes, lines[n + 2], lines[n + 3] - lines[n + 2]);
            out.writeShort(CRLF);
        }
    }

    /**
     * Whether line {@code i} reaches the client, as {@link #writeRelayed} decides: not dropped as hop-by-hop and not
     * replaced by a header of the same name in {@code gatewaySet}. For a client that takes the lines one by one
     * (HTTP/2).
     */
    public boolean relays(int i, HttpHeaders gatewaySet) {
        return !dropped[i] && (gatewaySet.isEmpty() || !namedIn(i, gatewaySet));
    }

    /** Whether a name in {@code headers} is the name of one of these lines. */
    private boolean namesAnyLine(HttpHeaders headers) {
        for (int i = 0; i < count; i++) {
            if (namedIn(i, headers)) {
                return true;
            }
        }
        return false;
    }

    private boolean namedIn(int i, HttpHeaders headers) {
        int start = lines[4 * i];
        int length = lines[4 * i + 1] - start;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (Http1.equalsIgnoreCase(bytes, start, start + length, name)) {
                return true;
            }
        }
        return false;
    }

    /** Every line the upstream sent, hop-by-hop ones included, as a header map. */
    public HttpHeaders toHeaders() {
        HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        for (int i = 0; i < count; i++) {
            h.add(name(i), value(i)); // validated by the decoder, byte for byte
        }
        return h;
    }
}
