package nangogateway.probe;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Locale;

/**
 * Reads the answer to one probe request within a deadline: the final response head, and for framing attacks
 * whether the server closes the connection after it. Bodies are never interpreted.
 */
final class ResponseReader {
    /** Longer heads are not a front end's refusal; stop reading rather than buffer without bound. */
    private static final int MAX_HEAD = 64 * 1024;
    /** Discarded while waiting for the server to close; a refusal body is small. */
    private static final int MAX_DRAIN = 1024 * 1024;

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

    Exchange read(boolean measureClose) {
        try {
            String statusLine = readLine();
            if (statusLine == null) {
                return new Exchange.Dropped("EOF");
            }
            while (true) {
                int status = parseStatus(statusLine);
                if (status < 0) {
                    return new Exchange.Garbled("not an HTTP/1.x status line: " + Printable.show(statusLine, 60));
                }
                boolean close = false;
                String location = null;
                String line;
                while ((line = readLine()) != null && !line.isEmpty()) {
                    int colon = line.indexOf(':');
                    String name = colon < 0 ? line : line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = colon < 0 ? "" : line.substring(colon + 1).trim();
                    if (name.equals("connection") && value.toLowerCase(Locale.ROOT).contains("close")) {
                        close = true;
                    } else if (name.equals("location")) {
                        location = value;
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
                boolean closed = measureClose && (close || closesAfterResponse());
                return new Exchange.Answered(status, closed, location);
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
