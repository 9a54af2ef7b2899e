package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the guard accepts as a client's {@code Host}: {@code host[:port]}, reg-name or IP literal. */
class HostHeaderTest {

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "gw.example.com:443", "EXAMPLE.com", "localhost", "localhost:3004",
        "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:443", "[2001:db8::1]:65535", "[::ffff:192.0.2.1]",
        "a-b.example", "a_b.example", " example.com ", "x:0"})
    void accepts(String host) {
        assertTrue(HostHeader.isValid(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "exa mple.com", "example.com/", "example.com/path", "user@example.com",
        "example.com:", "example.com:123456", "example.com:8o", "example.com:80:90", ":80", "::1", "[::1",
        "[::1]x", "[::1]:", "[::1]:abc", "[zz::1]", "ex\\ample.com", "example.com?x", "example.com#x",
        "ex%41mple.com", "h\u00e9.example", "example.com:-1", "example.com:+80"})
    void rejects(String host) {
        assertFalse(HostHeader.isValid(host), host);
    }

    @Test
    void rejectsOverlongValues() {
        assertTrue(HostHeader.isValid("a".repeat(255)));
        assertFalse(HostHeader.isValid("a".repeat(256)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[]:443", "[:]", "[...]"})
    void rejectsEmptyIpLiteral(String host) {
        assertFalse(HostHeader.isValid(host), host);
    }
}
