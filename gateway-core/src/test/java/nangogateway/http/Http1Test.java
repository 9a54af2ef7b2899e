package nangogateway.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The one pair of ASCII-case-insensitive byte comparers both parsers use. */
class Http1Test {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aRegionEqualsAWordInAnyAsciiCase() {
        byte[] line = b("xTransfer-ENCODING: chunked");
        assertTrue(Http1.equalsIgnoreCase(line, 1, 18, "transfer-encoding"));
        assertFalse(Http1.equalsIgnoreCase(line, 1, 17, "transfer-encoding"), "length counts");
        assertFalse(Http1.equalsIgnoreCase(line, 0, 17, "transfer-encoding"));
        assertTrue(Http1.equalsIgnoreCase(b("CHUNKED"), 0, 7, "chunked"));
        assertTrue(Http1.equalsIgnoreCase(b("x-request-id"), 0, 12, "X-Request-Id"), "the word in any case too");
        // Only A-Z fold: '@' and '`', '[' and '{', and obs-text differ by 32 too, but are not letters.
        assertFalse(Http1.equalsIgnoreCase(b("@"), 0, 1, "`"));
        assertFalse(Http1.equalsIgnoreCase(b("["), 0, 1, "{"));
        assertFalse(Http1.equalsIgnoreCase(b("\u00c9"), 0, 1, "\u00e9"), "obs-text does not fold");
        assertTrue(Http1.equalsIgnoreCase(b("\u00e9"), 0, 1, "\u00e9"), "but is read as ISO-8859-1");
    }

    @Test
    void twoRegionsDifferingOnlyInAsciiCaseAreEqual() {
        byte[] head = b("Connection: X-Secret\r\nx-secret: 1\r\n");
        assertTrue(Http1.regionEqualsIgnoreCase(head, 12, head, 22, 8));
        assertTrue(Http1.regionEqualsIgnoreCase(head, 22, head, 12, 8), "either way round");
        assertFalse(Http1.regionEqualsIgnoreCase(head, 12, b("X-Secreu"), 0, 8));
        assertFalse(Http1.regionEqualsIgnoreCase(b("a@"), 0, b("a`"), 0, 2));
        assertFalse(Http1.regionEqualsIgnoreCase(b("\u00c9"), 0, b("\u00e9"), 0, 1));
        assertTrue(Http1.regionEqualsIgnoreCase(b("\u00e9"), 0, b("\u00e9"), 0, 1));
    }
}
