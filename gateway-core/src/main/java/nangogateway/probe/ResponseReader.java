package nangogateway.probe;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads the answer to one probe request within a deadline: the final response head, the first bytes of its body
 * (evidence of what answered, see {@link Reached}), and for framing attacks whether the server closes the
 * connection after it.
 */
final class ResponseReader {
    /** Longer heads are not a front end's refusal; stop reading rather than buffer without bound. */
    private static final int MAX_HEAD = 64 * 1024;
    /** Discarded while waiting for the server to close; a refusal body is small. */
    private static final int MAX_DRAIN = 1024 * 1024;
    /** Enough to recognise a JSON error, an HTML page's title and markers; the rest is never looked at. */
    static final int MAX_BODY = 4096;

    private final Socket socket;
    private final InputStream in;
    private final long deadline;
    private final String timeoutText;
    private int headBytes;

    ResponseReader(Socket socket, InputStream in, long deadlineNanos, String timeoutText) {
        this.socket = socket;
        this.in = in;
        this.deadline = deadlineNanos;
        this.timeoutText = timeoutText;
    }

    /** @param headRequest the request was HEAD, so the answer has no body whatever its headers say */
    Exchange read(boolean measureClose, boolean headRequest) {
        try {
            String statusLine = readLine();
            if (statusLine == null) {
                return new Exchange.Dropped("EOF");
            }
            while (true) {
                int status = parseStatus(statusLine);
                if (status < 0) {
                    return new Exchange.Garbled(statusLine.startsWith("HTTP/")
                            ? "a status line that is not HTTP/1.x: " + Printable.show(statusLine, 60)
                            : "an answer without a status line (HTTP/0.9-style raw bytes, no status, no headers), "
                                    + "first bytes: '" + Printable.show(statusLine + firstBytesAfter(), 60) + "'");
                }
                boolean close = false;
                String location = null;
                String contentType = null;
                long contentLength = -1;
                boolean chunked = false;
                String line;
                while ((line = readLine()) != null && !line.isEmpty()) {
                    int colon = line.indexOf(':');
                    String name = colon < 0 ? line : line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = colon < 0 ? "" : line.substring(colon + 1).trim();
                    if (name.equals("connection") && value.toLowerCase(Locale.ROOT).contains("close")) {
                        close = true;
                    } else if (name.equals("location")) {
                        location = value;
                    } else if (name.equals("content-type")) {
                        contentType = value;
                    } else if (name.equals("content-length")) {
                        contentLength = parseLength(value);
                    } else if (name.equals("transfer-encoding")) {
                        chunked = value.toLowerCase(Locale.ROOT).endsWith("chunked");
                    }
                }
                if (line == null) {
                    return new Exchange.Silent("status " + status + ", then the connection closed mid-head");
                }
                // Interim responses (100 Continue) precede the real answer; 101 is the answer itself.
                if (status >= 100 && status < 200 && status != 101) {
                    statusLine = readLine();
                    if (statusLine == null) {
                        return new Exchange.Silent("status " + status + ", then nothing");
                    }
                    continue;
                }
                boolean bodiless = headRequest || status == 101 || status == 204 || status == 304;
                String body = bodiless ? "" : readBody(chunked, contentLength);
                boolean closed = measureClose && (close || closesAfterResponse());
                return new Exchange.Answered(status, closed, location, contentType, body);
            }
        } catch (SocketTimeoutException e) {
            return new Exchange.Silent(headBytes == 0 ? "no answer in " + timeoutText
                    : "an incomplete answer in " + timeoutText);
        } catch (HeadTooLong e) {
            return new Exchange.Garbled("a response head over " + MAX_HEAD + " bytes");
        } catch (IOException e) {
            return headBytes == 0 ? new Exchange.Dropped(describe(e))
                    : new Exchange.Silent("the connection failed mid-answer: " + describe(e));
        }
    }

    /**
     * The first {@link #MAX_BODY} bytes of the body (de-chunked), or what of them arrived before the deadline, EOF or
     * a framing error: evidence only, so a short read is no error.
     */
    private String readBody(boolean chunked, long contentLength) {
        StringBuilder body = new StringBuilder();
        try {
            if (chunked) {
                while (body.length() < MAX_BODY) {
                    String sizeLine = readBodyLine();
                    int semicolon = sizeLine.indexOf(';');
                    long size = Long.parseLong((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
                    if (size == 0) {
                        readBodyLine(); // the last chunk's CRLF (no trailers expected)
                        break;
                    }
                    readInto(body, size);
                    readBodyLine();
                }
            } else {
                readInto(body, contentLength < 0 ? Long.MAX_VALUE : contentLength);
            }
        } catch (IOException | NumberFormatException e) {
            // keep what arrived
        }
        return body.toString();
    }

    /** Reads up to {@code n} body bytes into {@code body}, stopping at {@link #MAX_BODY} or EOF. */
    private void readInto(StringBuilder body, long n) throws IOException {
        byte[] buf = new byte[1024];
        long left = n;
        while (left > 0 && body.length() < MAX_BODY) {
            armTimeout();
            int r = in.read(buf, 0, (int) Math.min(buf.length, Math.min(left, MAX_BODY - body.length())));
            if (r < 0) {
                return;
            }
            body.append(new String(buf, 0, r, StandardCharsets.ISO_8859_1));
            left -= r;
        }
    }

    private String readBodyLine() throws IOException {
        String line = readLine();
        if (line == null) {
            throw new EOFException();
        }
        return line;
    }

    /** After a first line that is no status line: up to 40 more bytes already on the way, for the report. */
    private String firstBytesAfter() {
        StringBuilder more = new StringBuilder("\n");
        try {
            if (in.available() > 0) {
                readInto(more, Math.min(40, in.available()));
            }
        } catch (IOException e) {
            // the first line is enough
        }
        return more.length() > 1 ? more.toString() : "";
    }

    private static long parseLength(String value) {
        try {
            return value.chars().allMatch(Character::isDigit) && !value.isEmpty() ? Long.parseLong(value) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Waits for EOF after the response; a reset counts as closed, a timeout as kept open. */
    private boolean closesAfterResponse() {
        try {
            byte[] buf = new byte[8192];
            int drained = 0;
            while (drained < MAX_DRAIN) {
                armTimeout();
                int n = in.read(buf);
                if (n < 0) {
                    return true;
                }
                drained += n;
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static int parseStatus(String line) {
        if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
            return -1;
        }
        String code = line.substring(9, 12);
        if (!code.chars().allMatch(Character::isDigit) || (line.length() > 12 && line.charAt(12) != ' ')) {
            return -1;
        }
        return Integer.parseInt(code);
    }

    /** One line without its terminator (LF or CRLF); null on EOF before any byte of it. */
    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            armTimeout();
            int b = in.read();
            if (b < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            if (++headBytes > MAX_HEAD) {
                throw new HeadTooLong();
            }
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) b);
        }
    }

    /** Each read may wait only for what is left of the request's deadline, so a trickling server cannot stall us. */
    private void armTimeout() throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("deadline");
        }
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    }

    static String describe(IOException e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    private static final class HeadTooLong extends IOException {
        HeadTooLong() {
            super("response head too long");
        }
    }
}
