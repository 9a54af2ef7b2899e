package nangogateway.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathPatternTest {

    private static String compileError(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathPattern.compile(text),
                () -> "expected '" + text + "' not to compile");
        return e.getMessage();
    }

    @Nested
    class Compile {

        @Test
        void textAndParamNames() {
            PathPattern p = PathPattern.compile("/webhook/{env}/{key}");
            assertEquals("/webhook/{env}/{key}", p.text());
            assertEquals("/webhook/{env}/{key}", p.toString());
            assertEquals(List.of("env", "key"), p.paramNames());
            assertEquals(List.of(), PathPattern.compile("/oauth/callback").paramNames());
            assertEquals(List.of(), PathPattern.compile("/").paramNames());
            assertEquals(List.of("a", "b"), PathPattern.compile("/{a}/x/{b}/y").paramNames());
        }

        @Test
        void paramNamesIsACopy() {
            PathPattern p = PathPattern.compile("/x/{a}");
            List<String> names = new ArrayList<>(p.paramNames());
            names.add("zzz");
            assertEquals(List.of("a"), p.paramNames());
        }

        @ParameterizedTest
        @ValueSource(strings = {"/", "/a", "/oauth/callback", "/oauth/connect/{key}", "/{a}", "/{a}/{b}",
            "/{_x1}", "/{camelCase}", "/{A_B_9}", "/a.b/c~d/e-f/g_h", "/...", "/a:b@c", "/OAuth"})
        void validPatternsCompile(String text) {
            assertEquals(text, PathPattern.compile(text).text());
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "oauth/callback", "{key}", " /a", "*", "http://x/a"})
        void mustStartWithSlash(String text) {
            assertEquals("a path pattern starts with '/', e.g. /oauth/connect/{key}", compileError(text));
        }

        @Test
        void nullDoesNotCompile() {
            assertEquals("a path pattern starts with '/', e.g. /oauth/connect/{key}", compileError(null));
        }

        @Test
        void trailingSlashIsRefusedWithAdvice() {
            String m = compileError("/oauth/");
            assertTrue(m.startsWith("write '/oauth' without the trailing '/'"), m);
            assertTrue(m.contains("prefix:"), m);
            assertTrue(compileError("/oauth/connect/{key}/").startsWith("write '/oauth/connect/{key}' without"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"//", "//a", "/a//b", "/a//", "/a/b//c", "///"})
        void emptySegments(String text) {
            assertEquals("empty segment ('//') in '" + text + "'", compileError(text));
        }

        @ParameterizedTest
        @ValueSource(strings = {"/{}", "/{a", "/a}", "/x{a}", "/{a}x", "/{a}{b}", "/{1a}", "/{a-b}", "/{a.b}",
            "/{ a}", "/{a b}", "/{{a}}", "/{é}", "/x/{", "/x/}", "/{a}/b{c}", "/pre{a}post"})
        void malformedParameters(String text) {
            String m = compileError(text);
            assertTrue(m.endsWith("is not a parameter: write '{name}' as a whole segment, name of letters, digits"
                    + " and '_'"), m);
        }

        @Test
        void malformedParameterMessageNamesTheSegment() {
            assertTrue(compileError("/oauth/x{key}").startsWith("'x{key}' is not a parameter"));
            assertTrue(compileError("/oauth/{}").startsWith("'{}' is not a parameter"));
        }

        @Test
        void duplicateParameters() {
            assertEquals("parameter '{a}' appears twice in '/{a}/{a}'", compileError("/{a}/{a}"));
            assertEquals("parameter '{key}' appears twice in '/x/{key}/y/{key}'", compileError("/x/{key}/y/{key}"));
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "/a/%2e|segment '%2e' holds '%': patterns are matched on the raw path; write the characters themselves",
            "/oauth%2fcallback|segment 'oauth%2fcallback' holds '%': patterns are matched on the raw path; write the characters themselves",
            "/%41|segment '%41' holds '%': patterns are matched on the raw path; write the characters themselves",
            "/.|segment '.' is a dot segment",
            "/..|segment '..' is a dot segment",
            "/a/./b|segment '.' is a dot segment",
            "/a/../b|segment '..' is a dot segment",
            "/a;b|segment 'a;b' holds a character no accepted request can carry (';' in path)",
            "/a\\b|segment 'a\\b' holds a character no accepted request can carry (backslash in path)",
            "/a#b|segment 'a#b' holds a character no accepted request can carry (fragment ('#') in request target)",
            "/a?b|segment 'a?b' holds '?', which starts the query string: a path never holds it",
            "/callback?code|segment 'callback?code' holds '?', which starts the query string: a path never holds it",
        })
        void literalsThatNoCanonicalPathCarries(String text, String message) {
            assertEquals(message, compileError(text));
        }

        @Test
        void nonPrintableLiterals() {
            for (String text : new String[] {"/a b", "/a\tb", "/caf\u00e9", "/a\u0000", "/\u007f"}) {
                assertEquals("holds a character no accepted request can carry "
                        + "(path holds a byte that is not printable ASCII)",
                        compileError(text).replaceFirst("^segment '[^']*' ", ""), text);
            }
        }
    }

    @Nested
    class Matching {

        @Test
        void literalsMatchExactly() {
            PathPattern p = PathPattern.compile("/oauth/callback");
            assertEquals(Map.of(), p.match("/oauth/callback"));
            assertNull(p.match("/oauth/callbac"));
            assertNull(p.match("/oauth/callbackx"));
            assertNull(p.match("/oauth/xcallback"));
            assertNull(p.match("/oauthx/callback"));
            assertNull(p.match("/oaut/callback"));
            assertNull(p.match("/oauth"));
            assertNull(p.match("/oauth/"));
            assertNull(p.match("/"));
            assertNull(p.match("/oauth/callback/x"));
            assertNull(p.match("/x/oauth/callback"));
            assertNull(p.match("/oauth/callback."));
            assertNull(p.match("/oauth/callback%20"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"/OAUTH/CALLBACK", "/OAuth/Callback", "/oauth/Callback", "/Oauth/callback",
            "/oauth/callbacK"})
        void literalsAreCaseSensitive(String path) {
            assertNull(PathPattern.compile("/oauth/callback").match(path));
        }

        @Test
        void upperCaseLiteralMatchesOnlyItself() {
            PathPattern p = PathPattern.compile("/OAuth/Connect");
            assertEquals(Map.of(), p.match("/OAuth/Connect"));
            assertNull(p.match("/oauth/connect"));
        }

        @Test
        void oneTrailingSlashIsTolerated() {
            PathPattern p = PathPattern.compile("/oauth/callback");
            assertEquals(Map.of(), p.match("/oauth/callback/"));
            assertNull(p.match("/oauth/callback//"));
            assertNull(p.match("/oauth/callback///"));
            PathPattern q = PathPattern.compile("/oauth/connect/{key}");
            assertEquals(Map.of("key", "github"), q.match("/oauth/connect/github/"));
            assertNull(q.match("/oauth/connect/github//"));
            assertNull(q.match("/oauth/connect/"), "the trailing slash never stands for an empty parameter");
            assertNull(q.match("/oauth/connect//"));
        }

        @Test
        void rootMatchesOnlyRoot() {
            PathPattern root = PathPattern.compile("/");
            assertEquals(Map.of(), root.match("/"));
            assertNull(root.match("//"));
            assertNull(root.match("/a"));
            assertNull(root.match("/a/"));
            assertNull(root.match("/."));
            assertNull(root.match(""));
        }

        @Test
        void singleSegmentPatternDoesNotMatchRoot() {
            assertNull(PathPattern.compile("/a").match("/"));
            assertNull(PathPattern.compile("/{a}").match("/"));
            assertNull(PathPattern.compile("/a").match(""));
        }

        @Test
        void extraAndMissingSegments() {
            PathPattern p = PathPattern.compile("/webhook/{env}/{key}");
            assertEquals(Map.of("env", "e", "key", "k"), p.match("/webhook/e/k"));
            assertNull(p.match("/webhook/e"));
            assertNull(p.match("/webhook/e/"));
            assertNull(p.match("/webhook"));
            assertNull(p.match("/webhook/"));
            assertNull(p.match("/webhook/a/b/c"));
            assertNull(p.match("/webhook/a/b/c/"));
            assertNull(p.match("/webhooks/a/b"));
            assertNull(p.match("/webhook//b"));
            assertNull(p.match("/webhook/a//"));
        }

        @Test
        void paramsMapHoldsEveryValueInOrder() {
            PathPattern p = PathPattern.compile("/a/{first}/b/{second}/{third}");
            Map<String, String> m = p.match("/a/1/b/two.2/~3-_");
            assertEquals(Map.of("first", "1", "second", "two.2", "third", "~3-_"), m);
            assertEquals(List.of("first", "second", "third"), new ArrayList<>(m.keySet()));
            assertNull(p.match("/a/1/c/2/3"), "literals between params still count");
        }

        @ParameterizedTest
        @ValueSource(strings = {"github", "google-mail", "GitHub", "a", "0", "a.b", "...", "a..b", ".a", "a.",
            "x~y", "snake_case", "ABCxyz-019._~", "-", "_", "~"})
        void paramAcceptsOneSegmentOfUnreserved(String value) {
            assertEquals(Map.of("key", value), PathPattern.compile("/oauth/connect/{key}").match("/oauth/connect/" + value));
        }

        @ParameterizedTest
        @ValueSource(strings = {".", "..", "", "a%2fb", "%2e%2e", "a b", "a;b", "a:b", "a@b", "a+b", "a!b", "a*b",
            "a,b", "a=b", "a$b", "a'b", "a(b)", "a\\b", "caf\u00e9", "a{b}", "a%20b", "a&b", "a|b"})
        void paramRefusesEverythingElse(String value) {
            assertNull(PathPattern.compile("/oauth/connect/{key}").match("/oauth/connect/" + value), value);
        }

        @Test
        void paramNeverSpansSegments() {
            PathPattern p = PathPattern.compile("/oauth/connect/{key}");
            assertNull(p.match("/oauth/connect/a/b"));
            assertNull(p.match("/oauth/connect/../api"));
            assertNull(p.match("/oauth/connect/./x"));
        }

        @Test
        void dotParamsRefusedWithTrailingSlash() {
            PathPattern p = PathPattern.compile("/x/{a}");
            assertNull(p.match("/x/./"));
            assertNull(p.match("/x/../"));
            assertEquals(Map.of("a", "..."), p.match("/x/.../"));
        }

        @Test
        void paramInFirstAndMiddlePositions() {
            PathPattern p = PathPattern.compile("/{a}/mid/{b}");
            assertEquals(Map.of("a", "x", "b", "y"), p.match("/x/mid/y"));
            assertEquals(Map.of("a", "x", "b", "y"), p.match("/x/mid/y/"));
            assertNull(p.match("/x/MID/y"));
            assertNull(p.match("//mid/y"));
        }

        @Test
        void literalOnlyMatchReturnsEmptyMap() {
            Map<String, String> m = PathPattern.compile("/a/b").match("/a/b");
            assertEquals(0, m.size());
        }

        @Test
        void prefixOfALiteralIsNotAMatch() {
            PathPattern p = PathPattern.compile("/connect/session");
            assertNull(p.match("/connect/sessions"));
            assertNull(p.match("/connection/abc"));
            assertNull(p.match("/connect"));
            assertEquals(Map.of(), p.match("/connect/session/"));
        }
    }
}
