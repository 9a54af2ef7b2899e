package nangogateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * One message body as it arrives, for both of the gateway's parsers: by {@code Content-Length} or by chunks,
 * handed on as content pieces of at most 64 KiB, sliced from the connection's buffer without a copy, the last one
 * a {@link LastHttpContent}. Chunk framing is strict (hex size with optional extensions of field bytes, CRLF after
 * every line and after the data); chunk extensions and the trailer section are read and dropped, since the body
 * is re-framed for the next hop. A framing fault ends it with a failed piece.
 */
public final class BodyDecoder {
    public static final int MAX_PIECE = 64 * 1024;
    public static final int MAX_CHUNK_LINE = 4 * 1024;

    /** What a call to {@link #decode} came to. */
    public enum Status {
        /** Everything readable was used; the body goes on in later bytes. */
        MORE,
        /** The last piece was added; bytes after it belong to the next message. */
        END,
        /** A failed piece was added and the rest of the buffer skipped: the connection cannot be read further. */
        FAILED
    }

    private enum State { FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS }

    private final int maxTrailers;
    private final Http1.BlockScanner trailerScan = new Http1.BlockScanner();
    private State state = State.FIXED;
    private long remaining;

    /** @param maxTrailers the largest trailer section read (and dropped), bytes */
    public BodyDecoder(int maxTrailers) {
        this.maxTrailers = maxTrailers;
    }

    /** A body of exactly {@code length} bytes (more than 0) follows. */
    public void fixed(long length) {
        state = State.FIXED;
        remaining = length;
    }

    /** A chunked body follows. */
    public void chunked() {
        state = State.CHUNK_SIZE;
        trailerScan.reset();
    }

    /** Adds the pieces of the body the readable bytes complete. */
    public Status decode(ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case FIXED -> {
                    if (!in.isReadable()) {
                        return Status.MORE;
                    }
                    ByteBuf piece = in.readRetainedSlice(take(in));
                    if (remaining == 0) {
                        out.add(new DefaultLastHttpContent(piece, EmptyHttpHeaders.INSTANCE)); // no trailers: no map
                        return Status.END;
                    }
                    out.add(new DefaultHttpContent(piece));
                }
                case CHUNK_SIZE -> {
                    Status s = chunkSize(in, out);
                    if (s != null) {
                        return s;
                    }
                }
                case CHUNK_DATA -> {
                    if (!in.isReadable()) {
                        return Status.MORE;
                    }
                    out.add(new DefaultHttpContent(in.readRetainedSlice(take(in))));
                    if (remaining == 0) {
                        state = State.CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (in.readableBytes() < 2) {
                        return Status.MORE;
                    }
                    if (in.getByte(in.readerIndex()) != '\r' || in.getByte(in.readerIndex() + 1) != '\n') {
                        return fail(in, out, "chunk data not followed by CRLF");
                    }
                    in.skipBytes(2);
                    state = State.CHUNK_SIZE;
                }
                case TRAILERS -> {
                    int end = trailerScan.endOfBlock(in, maxTrailers);
                    if (end == Http1.BlockScanner.MORE) {
                        return Status.MORE;
                    }
                    if (end < 0) {
                        return fail(in, out, end == Http1.BlockScanner.TOO_LONG
                                ? "trailers over " + maxTrailers + " bytes" : "trailer line not ended by CRLF");
                    }
                    String bad = trailersProblem(in, end);
                    if (bad != null) {
                        return fail(in, out, bad);
                    }
                    in.readerIndex(end);
                    out.add(LastHttpContent.EMPTY_LAST_CONTENT);
                    return Status.END;
                }
            }
        }
    }

    /** How many bytes the next piece takes, counted off {@link #remaining}. */
    private int take(ByteBuf in) {
        int n = (int) Math.min(remaining, Math.min(in.readableBytes(), MAX_PIECE));
        remaining -= n;
        return n;
    }

    /** Reads a chunk size line; null when it moved on to another state, else the status to return. */
    private Status chunkSize(ByteBuf in, List<Object> out) {
        int r = in.readerIndex();
        int lf = in.indexOf(r, Math.min(in.writerIndex(), r + MAX_CHUNK_LINE), (byte) '\n');
        if (lf < 0) {
            return in.readableBytes() >= MAX_CHUNK_LINE
                    ? fail(in, out, "chunk size line over " + MAX_CHUNK_LINE + " bytes") : Status.MORE;
        }
        if (lf == r || in.getByte(lf - 1) != '\r') {
            return fail(in, out, "chunk size line not ended by CRLF");
        }
        long size = 0;
        int i = r;
        int end = lf - 1;
        for (; i < end; i++) {
            int d = Character.digit((char) in.getByte(i), 16);
            if (d < 0) {
                break;
            }
            if (size > (1L << 40)) {
                return fail(in, out, "chunk size too large");
            }
            size = size * 16 + d;
        }
        if (i == r) {
            return fail(in, out, "malformed chunk size");
        }
        String bad = extensionProblem(in, i, end);
        if (bad != null) {
            return fail(in, out, bad);
        }
        in.readerIndex(lf + 1);
        if (size == 0) {
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
        return null;
    }

    /**
     * What follows a chunk size, from {@code from} to the CR at {@code end}: nothing, or chunk extensions,
     * {@code *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )} (RFC 9112 section 7.1.1). They are
     * dropped, but read to the letter: a reader that let a quoted string run on would end the chunk elsewhere.
     */
    private static String extensionProblem(ByteBuf in, int from, int end) {
        int k = from;
        while (k < end) {
            k = skipBlanks(in, k, end);
            if (k == end || in.getByte(k) != ';') {
                return "malformed chunk size";
            }
            k = skipBlanks(in, k + 1, end);
            int name = k;
            while (k < end && Http1.tchar(in.getByte(k))) {
                k++;
            }
            if (k == name) {
                return "malformed chunk extension";
            }
            int afterName = skipBlanks(in, k, end);
            if (afterName < end && in.getByte(afterName) == '=') {
                k = skipBlanks(in, afterName + 1, end);
                if (k < end && in.getByte(k) == '"') {
                    k = quotedStringEnd(in, k + 1, end);
                    if (k < 0) {
                        return "malformed quoted string in a chunk extension";
                    }
                } else {
                    int value = k;
                    while (k < end && Http1.tchar(in.getByte(k))) {
                        k++;
                    }
                    if (k == value) {
                        return "malformed chunk extension";
                    }
                }
            }
        }
        return null;
    }

    /** Just past the closing quote of a quoted string whose content starts at {@code from}; -1 if none by {@code end}. */
    private static int quotedStringEnd(ByteBuf in, int from, int end) {
        int k = from;
        while (k < end) {
            byte c = in.getByte(k);
            if (c == '"') {
                return k + 1;
            }
            if (c == '\\') {
                k++;
                if (k == end || !Http1.fieldByte(in.getByte(k))) {
                    return -1;
                }
            } else if (!Http1.fieldByte(c)) {
                return -1;
            }
            k++;
        }
        return -1;
    }

    private static int skipBlanks(ByteBuf in, int from, int end) {
        int k = from;
        while (k < end && (in.getByte(k) == ' ' || in.getByte(k) == '\t')) {
            k++;
        }
        return k;
    }

    /** Reads the trailer section {@code [readerIndex, end)} line by line: each must be a well-formed field line. */
    private static String trailersProblem(ByteBuf in, int end) {
        if (end - in.readerIndex() == 2) {
            return null; // the common case: no trailers
        }
        byte[] b = new byte[end - in.readerIndex()];
        in.getBytes(in.readerIndex(), b);
        int[] at = new int[4];
        try {
            int pos = 0;
            while (b[pos] != '\r') {
                pos = Http1.fieldLine(b, pos, at);
            }
            Http1.endOfFields(b, pos);
            return null;
        } catch (BadMessage e) {
            return "trailers: " + e.getMessage();
        }
    }

    private Status fail(ByteBuf in, List<Object> out, String why) {
        in.skipBytes(in.readableBytes());
        out.add(failedPiece(new BadMessage(why)));
        return Status.FAILED;
    }

    /** An empty last piece whose decoder result is a failure: how a body that cannot be read ends. */
    public static LastHttpContent failedPiece(Exception cause) {
        LastHttpContent bad = new DefaultLastHttpContent();
        bad.setDecoderResult(DecoderResult.failure(cause));
        return bad;
    }
}
