package nangogateway.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RequestTarget#parse}: one reading of each target, and every spelling that could reach a private route
 * behind a public prefix (dot segments, encoded separators, double encoding, non-ASCII, backslashes) refused.
 */
class RequestTargetTest {

    private static RequestTarget accepted(String uri) {
        RequestTarget.Verdict v = RequestTarget.parse(uri);
        assertTrue(v.accepted(), () -> "expected " + show(uri) + " to be accepted, got: " + v.rejection());
        assertNull(v.rejection(), "an accepted verdict carries no rejection");
        assertNotNull(v.target());
        assertEquals(uri, v.target().raw(), "raw is the target byte for byte");
        return v.target();
    }

    private static String rejected(String uri) {
        RequestTarget.Verdict v = RequestTarget.parse(uri);
        assertFalse(v.accepted(), () -> "expected " + show(uri) + " to be rejected, got path="
                + v.target().path() + " query=" + v.target().query());
        assertNull(v.target());
        assertNotNull(v.rejection());
        assertFalse(v.rejection().isBlank());
        return v.rejection();
    }

    private static String show(String s) {
        StringBuilder b = new StringBuilder("'");
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c >= 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('\'').toString();
    }

    @Nested
    class Accepted {

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/|/",
            "/oauth/callback|/oauth/callback",
            "/oauth/callback/|/oauth/callback/", // one trailing slash
            "/oauth/connect/github|/oauth/connect/github",
            "/webhook/0b5f-4a2e/github-app|/webhook/0b5f-4a2e/github-app",
            "/OAUTH/CALLBACK|/OAUTH/CALLBACK", // accepted as a target, denied by the (case-sensitive) routes
            "/oauth/callback.|/oauth/callback.", // not a dot segment; no route matches it
            "/oauth/...|/oauth/...", // three dots are a name, not a dot segment
            "/a/.b/..c/c./d..|/a/.b/..c/c./d..",
            "/oauth/callback%20|/oauth/callback%20", // a reserved escape is one reading; no route matches
            "/x/a%3Ab%40c%2Bd|/x/a%3Ab%40c%2Bd", // reserved characters may stay encoded
            "/x/a:b@c!$&'()*+,=|/x/a:b@c!$&'()*+,=",
            "/x/~_-.z|/x/~_-.z",
            "/proxy/2/files/download|/proxy/2/files/download",
        })
        void originFormPaths(String uri, String path) {
            RequestTarget t = accepted(uri);
            assertEquals(path, t.path());
            assertNull(t.query(), "no '?' means no query at all");
        }

        @Test
        void rootOnly() {
            RequestTarget t = accepted("/");
            assertEquals("/", t.path());
            assertNull(t.query());
        }

        @Test
        void pathStopsAtFirstQuestionMark() {
            RequestTarget t = accepted("/oauth/callback?x=/api/v1/meta");
            assertEquals("/oauth/callback", t.path());
            assertEquals("x=/api/v1/meta", t.query());
        }

        @Test
        void queryIsKeptByteForByte() {
            String q = "code=4%2F0AfJohXk+abc%2Bdef&state=a%3Db&scope=openid%20email&x=&x=&y=%zz&z=a?b/c..//d;e\\f";
            RequestTarget t = accepted("/oauth/callback?" + q);
            assertEquals("/oauth/callback", t.path());
            assertEquals(q, t.query());
        }

        @Test
        void repeatedAndEmptyParameters() {
            RequestTarget t = accepted("/oauth/callback?a=1&a=2&&b&=c&");
            assertEquals("a=1&a=2&&b&=c&", t.query());
        }

        @Test
        void everyPrintableAsciiButHashIsKeptInTheQuery() {
            StringBuilder q = new StringBuilder();
            for (char c = 0x21; c < 0x7f; c++) {
                if (c != '#') {
                    q.append(c);
                }
            }
            RequestTarget t = accepted("/x?" + q);
            assertEquals("/x", t.path());
            assertEquals(q.toString(), t.query());
        }

        @Test
        void fourKilobyteQueryValue() {
            String value = "A".repeat(2048) + "%2F+".repeat(512);
            assertEquals(4096, value.length());
            RequestTarget t = accepted("/oauth/callback?code=" + value + "&state=s");
            assertEquals("code=" + value + "&state=s", t.query());
        }

        @Test
        void questionMarkAloneGivesEmptyQueryNotNull() {
            RequestTarget t = accepted("/oauth/callback?");
            assertEquals("/oauth/callback", t.path());
            assertEquals("", t.query());
            RequestTarget root = accepted("/?");
            assertEquals("/", root.path());
            assertEquals("", root.query());
        }

        @Test
        void secondQuestionMarkBelongsToTheQuery() {
            RequestTarget t = accepted("/a??b?c");
            assertEquals("/a", t.path());
            assertEquals("?b?c", t.query());
        }

        @Test
        void trailingSlashBeforeQuery() {
            RequestTarget t = accepted("/oauth/callback/?code=1");
            assertEquals("/oauth/callback/", t.path());
            assertEquals("code=1", t.query());
        }

        @Test
        void pathIsNotJudgedAfterTheQuestionMark() { // traversal shapes after the "?" are query text
            RequestTarget t = accepted("/oauth/callback?next=/api/v1/meta/..%2f..%2f&c=%00%c0%ae");
            assertEquals("/oauth/callback", t.path());
            assertEquals("next=/api/v1/meta/..%2f..%2f&c=%00%c0%ae", t.query());
        }

        @Test
        void verdictRecordAccessors() {
            RequestTarget.Verdict v = RequestTarget.parse("/a?b");
            assertEquals(new RequestTarget("/a?b", "/a", "b"), v.target());
        }
    }

    @Nested
    class DotSegments {

        @ParameterizedTest
        @ValueSource(strings = {
            "/.", "/..", "/./", "/../",
            "/oauth/./callback",
            "/oauth/callback/.",
            "/oauth/callback/./",
            "/oauth/callback/..",
            "/oauth/../api/v1/meta",
            "/api/v1/meta/../../../oauth/callback",
            "/../oauth/callback",
            "/./oauth/callback",
            "/./?x",
            "/oauth/..?x=1",
        })
        void literalDotSegments(String uri) {
            assertEquals("dot segment in path", rejected(uri));
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "/oauth/callback/%2e",
            "/oauth/callback/%2E",
            "/oauth/%2e%2e/api/v1/meta",
            "/oauth/%2E%2e/api/v1/meta",
            "/oauth/%2e%2E/api/v1/meta",
            "/oauth/.%2e/api/v1/meta",
            "/oauth/%2e./api/v1/meta",
            "/%2E%2E%2Fapi%2Fv1%2Fmeta",
            "/proxy/%2e%2e/oauth/callback",
            "/api/v1/meta/%2e%2e/%2e%2e/%2e%2e/oauth/callback",
            "/webhook/%2e%2e/b",
            "/oauth/callback%2e",
            "/a%2eb",
        })
        void encodedDots(String uri) {
            assertEquals("encoded '.' in path", rejected(uri));
        }
    }

    @Nested
    class EmptySegments {

        @ParameterizedTest
        @ValueSource(strings = {
            "//", "//oauth/callback", // leading
            "/oauth//callback", // middle
            "/oauth/callback//", // trailing
            "/oauth/callback///",
            "///", "//?x", "/a//?x", "/a//b//c",
        })
        void emptySegmentsAnywhere(String uri) {
            assertEquals("empty path segment ('//')", rejected(uri));
        }
    }

    @Nested
    class Escapes {

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/oauth%2fcallback|encoded '/' in path",
            "/oauth%2Fcallback|encoded '/' in path",
            "/oauth/..%2fapi/v1/meta|encoded '/' in path",
            "/api/v1/meta/..%2f..%2f..%2foauth/callback|encoded '/' in path",
            "/proxy/..%2foauth/callback|encoded '/' in path",
            "/oauth/connect/..%2f..%2fapi|encoded '/' in path",
            "/webhook/a%2fb/c|encoded '/' in path",
            "/oauth%5capi|encoded '\\' in path",
            "/oauth%5Capi|encoded '\\' in path",
            "/oauth/callback%3f/../../api/v1/meta|encoded '?' in path",
            "/oauth/callback%3F|encoded '?' in path",
            "/oauth/callback%23|encoded '#' in path",
            "/oauth/callback%3bx|encoded ';' in path",
            "/oauth/callback%3B|encoded ';' in path",
            "/oauth/%252e%252e/api/v1/meta|encoded '%' (double encoding) in path",
            "/oauth/callback%2500|encoded '%' (double encoding) in path",
            "/oauth/callback%00|encoded control character in path",
            "/oauth/callback%09|encoded control character in path",
            "/oauth/callback%0a|encoded control character in path",
            "/oauth/callback%0D%0A|encoded control character in path",
            "/oauth/callback%1f|encoded control character in path",
            "/oauth/callback%7f|encoded control character in path",
            "/oauth/callback%7F|encoded control character in path",
            "/oauth/%c0%ae%c0%ae/api|encoded non-ASCII byte in path",
            "/oauth/%ef%bc%8e%ef%bc%8e/api|encoded non-ASCII byte in path",
            "/oauth/connect/%E2%80%AE|encoded non-ASCII byte in path",
            "/oauth/connect/%ff|encoded non-ASCII byte in path",
            "/oauth/connect/%80|encoded non-ASCII byte in path",
            "/%6fauth/callback|needlessly encoded unreserved character in path",
            "/oauth/%63allback|needlessly encoded unreserved character in path",
            "/oauth/%43allback|needlessly encoded unreserved character in path",
            "/a%30|needlessly encoded unreserved character in path",
            "/a%2d|needlessly encoded unreserved character in path",
            "/a%5f|needlessly encoded unreserved character in path",
            "/a%7e|needlessly encoded unreserved character in path",
        })
        void encodedCharactersThatCouldBeReadTwoWays(String uri, String reason) {
            assertEquals(reason, rejected(uri));
        }

        @ParameterizedTest
        @ValueSource(strings = {"/a%", "/a%2", "/a%zz", "/a%2g", "/a%g2", "/%", "/%/", "/a%2/b", "/a%%41",
            "/a% 1", "/a%-1", "/a%+1", "/a%2?x", "/a%?x=1"})
        void invalidPercentEncoding(String uri) {
            assertEquals("invalid percent-encoding", rejected(uri));
        }

        @Test
        void everyEncodedControlIsRejected() {
            IntStream.concat(IntStream.range(0, 0x20), IntStream.of(0x7f)).forEach(b -> {
                assertEquals("encoded control character in path", rejected(String.format("/x%%%02x", b)));
                assertEquals("encoded control character in path", rejected(String.format("/x%%%02X/y", b)));
            });
        }

        @Test
        void everyEncodedHighByteIsRejected() {
            IntStream.range(0x80, 0x100).forEach(b ->
                    assertEquals("encoded non-ASCII byte in path", rejected(String.format("/x%%%02x", b))));
        }

        @Test
        void everyNeedlesslyEncodedUnreservedIsRejected() {
            String unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~";
            for (char c : unreserved.toCharArray()) {
                assertEquals("needlessly encoded unreserved character in path",
                        rejected(String.format("/x%%%02X", (int) c)), "for " + c);
            }
        }

        @Test
        void nonAsciiDigitsAreNotHexDigits() {
            // Character.digit would read these as hex digits and skip them unchecked: fullwidth '2', '0'
            // ("%２０" = an encoded space) and Arabic-Indic '2', '0'.
            assertEquals("invalid percent-encoding", rejected("/oauth/x%\uff12\uff10"));
            assertEquals("invalid percent-encoding", rejected("/oauth/x%\u0662\u0660"));
            assertEquals("invalid percent-encoding", rejected("/oauth/x%\uff21\uff21"));
            assertEquals("invalid percent-encoding", rejected("/oauth/x%2\u00b2"));
        }

        @Test
        void remainingEncodedPrintableAsciiIsAccepted() {
            // reserved and other printable characters have one reading when encoded; only the ones above are judged
            for (char c : " !\"$&'()*+,:<=>@[]^`{|}".toCharArray()) {
                String uri = String.format("/x%%%02x/y", (int) c);
                assertEquals(uri, accepted(uri).path());
            }
        }
    }

    @Nested
    class RawCharacters {

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/oauth\\..\\api\\v1\\meta|backslash in path",
            "/oauth/callback\\|backslash in path",
            "/oauth/callback;jsessionid=x|';' in path",
            "/oauth;x/callback|';' in path",
            "/oauth/callback/..;/..;/api/v1/meta|';' in path",
            "/oauth/callback#/../../api/v1/meta|fragment ('#') in request target",
            "/api/v1/meta#/oauth/callback|fragment ('#') in request target",
            "/oauth/callback#|fragment ('#') in request target",
            "/#|fragment ('#') in request target",
        })
        void ambiguousRawCharacters(String uri, String reason) {
            assertEquals(reason, rejected(uri));
        }

        @Test
        void everyHighByteAsCharIsRejected() { // Netty hands the line over as ISO-8859-1 chars
            for (char c = 0x80; c <= 0xff; c++) {
                assertEquals("path holds a byte that is not printable ASCII", rejected("/oauth/" + c + "x"),
                        "for " + (int) c);
                assertEquals("path holds a byte that is not printable ASCII", rejected("/" + c));
            }
        }

        @Test
        void rawUtf8BytesAreRejected() { // "é" as two ISO-8859-1 chars, and as one Java char
            assertEquals("path holds a byte that is not printable ASCII", rejected("/oauth/connect/\u00c3\u00a9"));
            assertEquals("path holds a byte that is not printable ASCII", rejected("/oauth/connect/\u00e9"));
            assertEquals("path holds a byte that is not printable ASCII", rejected("/oauth/connect/\u202e"));
            assertEquals("path holds a byte that is not printable ASCII", rejected("/oauth/\uff0e\uff0e/api"));
        }

        @Test
        void everyControlCharacterIsRejected() {
            IntStream.concat(IntStream.rangeClosed(0, 0x20), IntStream.of(0x7f)).forEach(c -> {
                assertEquals("path holds a byte that is not printable ASCII",
                        rejected("/oauth/callback" + (char) c), "for " + c);
                assertEquals("path holds a byte that is not printable ASCII",
                        rejected("/oauth" + (char) c + "/callback"), "for " + c);
            });
        }

        @ParameterizedTest
        @ValueSource(strings = {"/oauth/callback /api/v1/meta", "/oauth/callback\t", "/oauth/callback ",
            "/oauth/call back", "/oauth/callback\u0000", "/oauth/callback\r\n", "/\u000b", "/\f"})
        void spacesTabsAndControls(String uri) {
            assertEquals("path holds a byte that is not printable ASCII", rejected(uri));
        }
    }

    @Nested
    class Query {

        @ParameterizedTest
        @ValueSource(strings = {"/oauth/callback?code=1#frag", "/oauth/callback?#", "/?a#b", "/x?a=b#/../api"})
        void fragmentInQueryIsRejected(String uri) {
            assertEquals("fragment ('#') in request target", rejected(uri));
        }

        @Test
        void nonPrintableInQueryIsRejected() {
            for (int c : new int[] {0, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, 0x202e}) {
                assertEquals("query holds a byte that is not printable ASCII",
                        rejected("/oauth/callback?code=a" + (char) c + "b"), "for " + c);
            }
        }

        @Test
        void pathIsJudgedBeforeTheQuery() {
            assertEquals("dot segment in path", rejected("/a/..?x#y"));
        }
    }

    @Nested
    class NotOriginForm {

        static Stream<Arguments> targets() {
            return Stream.of(
                    Arguments.of("", "empty request target"),
                    Arguments.of("*", "asterisk-form target"),
                    Arguments.of("http://x/oauth/callback", "absolute-form target"),
                    Arguments.of("http://evil/api/v1/meta", "absolute-form target"),
                    Arguments.of("HTTP://x/API/v1/meta", "absolute-form target"),
                    Arguments.of("https://x/oauth/callback?code=1", "absolute-form target"),
                    Arguments.of("a://b/api/v1/meta", "absolute-form target"),
                    Arguments.of("host:443", "target does not start with '/'"), // authority-form
                    Arguments.of("api.github.com:443", "target does not start with '/'"),
                    Arguments.of("x/api/v1/meta", "target does not start with '/'"),
                    Arguments.of("oauth/callback", "target does not start with '/'"),
                    Arguments.of("://x/oauth", "target does not start with '/'"),
                    Arguments.of("**", "target does not start with '/'"),
                    Arguments.of("?x=1", "target does not start with '/'"),
                    Arguments.of("\t/oauth/callback", "target does not start with '/'"),
                    Arguments.of(" /oauth/callback", "target does not start with '/'"),
                    Arguments.of("\\oauth\\callback", "target does not start with '/'"),
                    Arguments.of("%2foauth/callback", "target does not start with '/'"),
                    Arguments.of(".", "target does not start with '/'"));
        }

        @ParameterizedTest
        @MethodSource("targets")
        void rejectedWithReason(String uri, String reason) {
            assertEquals(reason, rejected(uri));
        }

        @Test
        void nullIsRejected() {
            RequestTarget.Verdict v = RequestTarget.parse(null);
            assertFalse(v.accepted());
            assertEquals("empty request target", v.rejection());
        }
    }

    @Nested
    class LiteralSegments {

        @ParameterizedTest
        @ValueSource(strings = {"oauth", "callback", "a.b", "...", "a~b", "x-y_z", "A:b@c", "{", "a}"})
        void acceptableLiterals(String segment) {
            assertNull(RequestTarget.literalSegmentProblem(segment));
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            ".|is a dot segment",
            "..|is a dot segment",
            "a%2fb|holds '%': patterns are matched on the raw path; write the characters themselves",
            "%|holds '%': patterns are matched on the raw path; write the characters themselves",
            "a?b|holds '?', which starts the query string: a path never holds it",
            "a\\b|holds a character no accepted request can carry (backslash in path)",
            "a;b|holds a character no accepted request can carry (';' in path)",
            "a#b|holds a character no accepted request can carry (fragment ('#') in request target)",
        })
        void impossibleLiterals(String segment, String problem) {
            assertEquals(problem, RequestTarget.literalSegmentProblem(segment));
        }

        @Test
        void nonAsciiAndSpaceLiterals() {
            assertEquals("holds a character no accepted request can carry (path holds a byte that is not printable ASCII)",
                    RequestTarget.literalSegmentProblem("a b"));
            assertEquals("holds a character no accepted request can carry (path holds a byte that is not printable ASCII)",
                    RequestTarget.literalSegmentProblem("caf\u00e9"));
        }
    }
}
