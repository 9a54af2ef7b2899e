package nangogateway.tests.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The responses the gateway wrote on one client connection, read from all the bytes that came before it closed.
 * Interim (1xx) responses are left out. The reader does not know which requests were HEAD: a response with a
 * length whose body would start with a status line, or with nothing after its head, is taken as bodiless.
 */
final class ClientAnswers {
    private ClientAnswers() {
    }

    record Answer(int status, Map<String, List<String>> headers, byte[] body, boolean complete) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        /** The recorder's sequence number when this is Node's answer relayed, else -1 (the gateway's own). */
        int recorderSeq() {
            String s = header("X-Recorder-Seq");
            return s == null ? -1 : Integer.parseInt(s.trim());
        }

        @Override
        public String toString() {
            return status + (recorderSeq() >= 0 ? " (Node #" + recorderSeq() + ")" : " (gateway)")
                    + (complete ? "" : " (cut)");
        }
    }

    static List<Answer> read(byte[] b) {
        List<Answer> out = new ArrayList<>();
        int pos = 0;
        while (pos < b.length) {
            int end = indexOf(b, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (end < 0) {
                break; // a cut head
            }
            String head = new String(b, pos, end - pos, StandardCharsets.ISO_8859_1);
            pos = end + 4;
            String[] lines = head.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            int status;
            try {
                status = Integer.parseInt(statusLine[1]);
            } catch (RuntimeException e) {
                throw new IllegalStateException("not a status line from the gateway: " + Escapes.escape(lines[0]), e);
            }
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        k -> new ArrayList<>()).add(lines[i].substring(colon + 1).trim());
            }
            if (status >= 100 && status < 200) {
                continue;
            }
            Answer a;
            List<String> te = headers.get("transfer-encoding");
            List<String> cl = headers.get("content-length");
            if (status == 204 || status == 304) {
                a = new Answer(status, headers, new byte[0], true);
            } else if (te != null) {
                java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
                boolean complete = false;
                while (true) {
                    int lf = indexOf(b, new byte[] {'\r', '\n'}, pos);
                    if (lf < 0) {
                        break;
                    }
                    int size = Integer.parseInt(new String(b, pos, lf - pos, StandardCharsets.ISO_8859_1)
                            .split(";")[0].trim(), 16);
                    pos = lf + 2;
                    if (size == 0) {
                        int t = indexOf(b, new byte[] {'\r', '\n'}, pos);
                        complete = t == pos;
                        pos = t < 0 ? b.length : t + 2;
                        break;
                    }
                    if (pos + size + 2 > b.length) {
                        body.write(b, pos, Math.min(size, b.length - pos));
                        pos = b.length;
                        break;
                    }
                    body.write(b, pos, size);
                    pos += size + 2;
                }
                a = new Answer(status, headers, body.toByteArray(), complete);
            } else if (cl != null) {
                long n = Long.parseLong(cl.get(0));
                boolean bodiless = n > 0 && (pos == b.length || startsWith(b, pos, "HTTP/1."));
                if (bodiless) {
                    a = new Answer(status, headers, new byte[0], true);
                } else {
                    int take = (int) Math.min(n, b.length - pos);
                    byte[] body = java.util.Arrays.copyOfRange(b, pos, pos + take);
                    pos += take;
                    a = new Answer(status, headers, body, take == n);
                }
            } else {
                a = new Answer(status, headers, java.util.Arrays.copyOfRange(b, pos, b.length), true);
                pos = b.length;
            }
            out.add(a);
        }
        return out;
    }

    private static boolean startsWith(byte[] b, int at, String s) {
        if (b.length - at < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] b, byte[] what, int from) {
        outer:
        for (int i = from; i <= b.length - what.length; i++) {
            for (int k = 0; k < what.length; k++) {
                if (b[i + k] != what[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
