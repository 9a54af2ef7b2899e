package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.Permission;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Address blocks from the route file, and the IP literals of X-Forwarded-For: parsed, never looked up. */
class CidrTest {

    /**
     * Records every name lookup this thread asks for: the JDK checks {@code connect(host, -1)} before it resolves
     * a name, so an empty list means nothing reached the resolver (or /etc/hosts).
     */
    @SuppressWarnings("removal")
    static List<String> lookupsDuring(Runnable r) {
        List<String> lookups = new ArrayList<>();
        Thread me = Thread.currentThread();
        SecurityManager previous = System.getSecurityManager();
        System.setSecurityManager(new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
            }

            @Override
            public void checkPermission(Permission perm, Object context) {
            }

            @Override
            public void checkConnect(String host, int port) {
                if (port == -1 && Thread.currentThread() == me) {
                    lookups.add(host);
                }
            }
        });
        try {
            r.run();
        } finally {
            System.setSecurityManager(previous);
        }
        return lookups;
    }

    @Test
    void junkAndNamesAreNullWithoutALookup() {
        List<String> junk = List.of(".:", ":::", "1::2::3", ":.", "::g", "256.1.1.1", "999.999.999.999", "1.2.3",
                "1.2.3.4.5", "1.2.3.0400", "01.2.3.-4", "0x1.2.3.4", "localhost", "localhost.", "cafe", "example.com",
                "", " 10.0.0.1", "10.0.0.1 ", "fe80::1%eth0", "fe80::1%1", "[::1]", "10.0.0.0/8");
        List<String> lookups = lookupsDuring(() -> {
            for (String s : junk) {
                assertNull(Cidr.literal(s), s);
            }
        });
        assertEquals(List.of(), lookups);
    }

    @Test
    void literalsParse() {
        assertEquals("10.0.0.1", Cidr.literal("10.0.0.1").getHostAddress());
        assertEquals("255.255.255.255", Cidr.literal("255.255.255.255").getHostAddress());
        assertEquals("1.2.3.4", Cidr.literal("001.002.003.004").getHostAddress(), "leading zeros are decimal");
        assertInstanceOf(Inet6Address.class, Cidr.literal("::1"));
        assertEquals("2001:db8:0:0:0:0:0:1", Cidr.literal("2001:DB8::1").getHostAddress());
        InetAddress mapped = Cidr.literal("::ffff:203.0.113.9");
        assertInstanceOf(Inet4Address.class, mapped, "IPv4-mapped is the IPv4 address");
        assertEquals("203.0.113.9", mapped.getHostAddress());
    }

    @Test
    void blocksParseAndContain() {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertTrue(ten.contains(Cidr.literal("10.255.0.1")));
        assertFalse(ten.contains(Cidr.literal("11.0.0.1")));
        assertFalse(ten.contains(Cidr.literal("::1")), "another family never matches");
        Cidr odd = Cidr.parse("192.168.4.0/22");
        assertTrue(odd.contains(Cidr.literal("192.168.7.255")));
        assertFalse(odd.contains(Cidr.literal("192.168.8.0")));
        assertEquals(Cidr.parse("::1/128"), Cidr.parse(" ::1 "), "a bare address is a /128");
        assertEquals(32, Cidr.parse("203.0.113.9").prefix());
        assertTrue(Cidr.parse("0.0.0.0/0").contains(Cidr.literal("203.0.113.9")));
    }

    @Test
    void badBlocksSayHowToWriteThem() {
        assertEquals("'localhost' is not an address block: write e.g. 10.0.0.0/8 or ::1/128", message("localhost"));
        assertEquals("prefix length in '10.0.0.0/x' must be 0..32", message("10.0.0.0/x"));
        assertEquals("'.:' is not an IP address", message(".:"));
        assertEquals("'256.1.1.1/8' is not an IP address", message("256.1.1.1/8"));
        assertEquals("'1.2.3/24' is not an IP address", message("1.2.3/24"));
        assertEquals("prefix length in '10.0.0.0/33' must be 0..32", message("10.0.0.0/33"));
        assertEquals("prefix length in '::/129' must be 0..128", message("::/129"));
        assertEquals(List.of(), lookupsDuring(() -> message(".:")));
    }

    private static String message(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text)).getMessage();
    }
}
