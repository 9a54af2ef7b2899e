package nangogateway.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as {@code 10.0.0.0/8} or {@code ::1/128}; a bare address is a /32 or /128. */
public record Cidr(byte[] network, int prefix, String text) {

    /** @throws IllegalArgumentException with a message that says how to write it */
    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        if (!addr.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("'" + text + "' is not an address block: write e.g. 10.0.0.0/8 or ::1/128");
        }
        InetAddress parsed = literal(addr);
        if (parsed == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
        byte[] bytes = parsed.getAddress();
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("prefix length in '" + text + "' must be 0.." + max);
            }
        }
        return new Cidr(bytes, prefix, t);
    }

    /**
     * An IP literal, or null; never a name lookup. IPv4 is parsed here (four decimal octets of at most 255), since
     * {@link InetAddress#getByName} takes {@code 256.1.1.1} for a host name and asks DNS; text with a colon is
     * only ever parsed as IPv6 by the JDK.
     */
    public static InetAddress literal(String s) {
        if (s.isEmpty()) {
            return null;
        }
        try {
            if (s.indexOf(':') >= 0) {
                return s.matches("[0-9a-fA-F:.]+") ? InetAddress.getByName(s) : null;
            }
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) {
                return null;
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                if (!parts[i].matches("\\d{1,3}")) {
                    return null;
                }
                int v = Integer.parseInt(parts[i]);
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        return text;
    }
}
