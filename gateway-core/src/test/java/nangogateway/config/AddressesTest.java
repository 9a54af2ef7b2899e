package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Listener binds and origins: IP literals are read by the parser, never resolved. */
class AddressesTest {

    private static String bindError(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Addresses.parseBind(text)).getMessage();
    }

    private static String originError(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Addresses.parseOrigin(text, "http://h:1"))
                .getMessage();
    }

    @Test
    void bindsTakeIpLiteralsAndLocalhost() {
        assertEquals(new Addresses.Bind("255.255.255.255", 1), Addresses.parseBind("255.255.255.255:1"));
        assertEquals(new Addresses.Bind("::", 443), Addresses.parseBind("[::]:443"));
        assertEquals(new Addresses.Bind("2001:db8::1", 80), Addresses.parseBind("[2001:db8::1]:80"));
        assertEquals(new Addresses.Bind("localhost", 8080), Addresses.parseBind("localhost:8080"));
    }

    @Test
    void badBindHostsAreRefusedWithoutALookup() {
        List<String> lookups = CidrTest.lookupsDuring(() -> {
            for (String host : List.of("256.1.1.1", "1.2.3", "1.2.3.4.5", "010.0.0.1", "example.com")) {
                assertEquals("host '" + host + "' must be an IP address or localhost (names are not resolved at"
                        + " bind time): write host:port, e.g. 0.0.0.0:443, 127.0.0.1:8080 or [::]:443",
                        bindError(host + ":80"), host);
            }
            for (String host : List.of(".:", ":::", "fe80::1%eth0", "cafe", "1::2::3")) {
                assertEquals("'" + host + "' is not an IPv6 address: write host:port, e.g. 0.0.0.0:443,"
                        + " 127.0.0.1:8080 or [::]:443", bindError("[" + host + "]:80"), host);
            }
        });
        assertEquals(List.of(), lookups);
    }

    @Test
    void originsTakeIpv6InBracketsWithoutALookup() {
        assertEquals(new Addresses.Origin("http", "::1", 3003), Addresses.parseOrigin("http://[::1]:3003", "x"));
        assertEquals(new Addresses.Origin("https", "10.0.0.1", 443), Addresses.parseOrigin("https://10.0.0.1", "x"));
        List<String> lookups = CidrTest.lookupsDuring(() -> {
            assertEquals("'.:' is not an IPv6 address", originError("http://[.:]:3003"));
            assertEquals("'fe80::1%1' is not an IPv6 address", originError("http://[fe80::1%1]"));
        });
        assertEquals(List.of(), lookups);
    }
}
