package nangogateway.server;

/** Validation of the client's {@code Host} header: {@code host[:port]}, reg-name or IP literal, nothing else. */
public final class HostHeader {
    private HostHeader() {
    }

    public static boolean isValid(String value) {
        String v = value.trim();
        if (v.isEmpty() || v.length() > 255) {
            return false;
        }
        int portStart;
        if (v.charAt(0) == '[') {
            int close = v.indexOf(']');
            if (close < 3 || v.substring(1, close).indexOf(':') < 0) {
                return false; // an IPv6 literal holds at least two colons' worth: "[::]"
            }
            for (int i = 1; i < close; i++) {
                char c = v.charAt(i);
                if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                    return false;
                }
            }
            portStart = close + 1;
        } else {
            int colon = v.indexOf(':');
            portStart = colon < 0 ? v.length() : colon;
            for (int i = 0; i < portStart; i++) {
                char c = v.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '.' || c == '_';
                if (!ok) {
                    return false;
                }
            }
            if (portStart == 0) {
                return false;
            }
        }
        if (portStart == v.length()) {
            return true;
        }
        if (v.charAt(portStart) != ':' || portStart + 1 == v.length() || v.length() - portStart - 1 > 5) {
            return false;
        }
        for (int i = portStart + 1; i < v.length(); i++) {
            if (v.charAt(i) < '0' || v.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
