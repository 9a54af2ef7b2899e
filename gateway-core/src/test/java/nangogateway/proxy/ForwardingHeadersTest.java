package nangogateway.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which headers cross the gateway in each direction, and which the gateway sets itself. */
class ForwardingHeadersTest {
    private static final String PEER = "198.51.100.7";
    private static final String NANGO = "127.0.0.1:3003";

    private static HttpHeaders headers(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    private static HttpHeaders upstream(HttpHeaders client) {
        return ForwardingHeaders.toUpstream(client, false, PEER, "https", "gw.example.com", NANGO);
    }

    @Test
    void endToEndHeadersPassUnchangedWithEveryValue() {
        HttpHeaders out = upstream(headers("Host", "gw.example.com", "Cookie", "a=1; b=2", "User-Agent", "UA/1",
                "Authorization", "Bearer nango_connect_session_ab", "Content-Type", "application/json",
                "Content-Length", "12", "X-Multi", "one", "X-Multi", "two", "Accept", "*/*"));
        assertEquals("a=1; b=2", out.get("Cookie"));
        assertEquals("UA/1", out.get("User-Agent"));
        assertEquals("Bearer nango_connect_session_ab", out.get("Authorization"));
        assertEquals("application/json", out.get("Content-Type"));
        assertEquals("12", out.get("Content-Length"));
        assertEquals(List.of("one", "two"), out.getAll("X-Multi"));
        assertEquals("*/*", out.get("Accept"));
    }

    @Test
    void gatewaySetsHostAndForwardingHeaders() {
        HttpHeaders out = ForwardingHeaders.toUpstream(headers("Host", "gw.example.com:8443"), false, PEER, "http",
                " gw.example.com:8443 ", NANGO);
        assertEquals(List.of(NANGO), out.getAll("Host"));
        assertEquals(List.of(PEER), out.getAll("X-Forwarded-For"));
        assertEquals(List.of("http"), out.getAll("X-Forwarded-Proto"));
        assertEquals(List.of("gw.example.com:8443"), out.getAll("X-Forwarded-Host"));
        assertEquals(List.of(ForwardingHeaders.VIA), out.getAll("Via"));
    }

    @Test
    void hopByHopHeadersAreRemoved() {
        HttpHeaders out = upstream(headers("Host", "h", "Connection", "keep-alive", "Keep-Alive", "timeout=5",
                "Proxy-Connection", "keep-alive", "TE", "trailers", "Transfer-Encoding", "chunked",
                "Upgrade", "h2c", "Trailer", "X-Checksum", "Proxy-Authorization", "Basic Zm9vOmJhcg==",
                "HTTP2-Settings", "AAMAAABkAAQAAP__", "X-Kept", "yes"));
        for (String name : List.of("Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding",
                "Upgrade", "Trailer", "Proxy-Authorization", "HTTP2-Settings")) {
            assertFalse(out.contains(name), name + " must not reach Nango");
        }
        assertEquals("yes", out.get("X-Kept"));
    }

    @Test
    void headersNamedInConnectionAreRemovedCaseInsensitively() {
        HttpHeaders out = upstream(headers("Host", "h", "CONNECTION", "Keep-Alive, x-internal-secret ,X-Other",
                "Connection", "X-Third", "X-Internal-Secret", "s", "x-other", "o", "X-Third", "t", "X-Kept", "k"));
        assertFalse(out.contains("X-Internal-Secret"));
        assertFalse(out.contains("X-Other"));
        assertFalse(out.contains("X-Third"));
        assertFalse(out.contains("Connection"));
        assertEquals("k", out.get("X-Kept"));
    }

    @Test
    void connectionCannotRemoveTheHeadersTheGatewaySets() {
        HttpHeaders out = upstream(headers("Host", "h", "Connection",
                "close, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, Host, Via", "X-Forwarded-For", "6.6.6.6"));
        assertEquals(List.of(PEER), out.getAll("X-Forwarded-For"));
        assertEquals(List.of("https"), out.getAll("X-Forwarded-Proto"));
        assertEquals(List.of("gw.example.com"), out.getAll("X-Forwarded-Host"));
        assertEquals(List.of(NANGO), out.getAll("Host"));
        assertEquals(List.of(ForwardingHeaders.VIA), out.getAll("Via"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Forwarded-For", "x-forwarded-for", "Forwarded", "X-Real-IP", "X-Original-URL",
        "X-Rewrite-URL", "X-Original-URI", "X-Original-Host", "Base-Url-Override", "base-url-override",
        "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-HTTP-Method-Override", "X-HTTP-Method",
        "X-Method-Override", "Expect"})
    void clientForwardingAndOverrideHeadersAreDropped(String name) {
        HttpHeaders out = upstream(headers("Host", "h", name, "203.0.113.9", name, "evil"));
        List<String> values = out.getAll(name);
        assertFalse(values.contains("203.0.113.9"), name + ": " + values);
        assertFalse(values.contains("evil"), name + ": " + values);
    }

    @Test
    void clientForwardedForIsOverwrittenNeverAppended() {
        HttpHeaders out = upstream(headers("Host", "h", "X-Forwarded-For", "1.1.1.1, 2.2.2.2",
                "X-Forwarded-Proto", "http", "X-Forwarded-Host", "evil.example", "Via", "1.1 evil"));
        assertEquals(List.of(PEER), out.getAll("X-Forwarded-For"));
        assertEquals(List.of("https"), out.getAll("X-Forwarded-Proto"));
        assertEquals(List.of("gw.example.com"), out.getAll("X-Forwarded-Host"));
        assertEquals(List.of(ForwardingHeaders.VIA), out.getAll("Via"));
    }

    @Test
    void webSocketHandshakeKeepsOnlyTheGatewaysUpgradeHeaders() {
        HttpHeaders client = headers("Host", "h", "Connection", "Upgrade, X-Drop", "Upgrade", "websocket",
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13", "X-Drop", "d");
        HttpHeaders out = ForwardingHeaders.toUpstream(client, true, PEER, "https", "h", NANGO);
        assertEquals(List.of("upgrade"), out.getAll("Connection"));
        assertEquals(List.of("websocket"), out.getAll("Upgrade"));
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", out.get("Sec-WebSocket-Key"));
        assertEquals("13", out.get("Sec-WebSocket-Version"));
        assertFalse(out.contains("X-Drop"));
    }

    @Test
    void headersAreRewrittenInPlace() {
        HttpHeaders client = headers("Host", "h", "Connection", "close", "X-Forwarded-For", "1.1.1.1");
        HttpHeaders out = upstream(client);
        assertSame(client, out, "the request's own headers object is reused");
        assertEquals(List.of(PEER), client.getAll("X-Forwarded-For"));
        assertFalse(client.contains("Connection"));
    }

    @Test
    void responseLosesHopByHopHeadersAndKeepsTheRest() {
        HttpHeaders h = headers("Connection", "keep-alive, X-Upstream-Internal", "Keep-Alive", "timeout=5",
                "Transfer-Encoding", "chunked", "Trailer", "X-Checksum", "Proxy-Connection", "keep-alive",
                "Proxy-Authenticate", "Basic", "Upgrade", "h2c", "X-Upstream-Internal", "i",
                "Set-Cookie", "a=1; Path=/", "Set-Cookie", "b=2; Path=/", "Location", "https://app.example/done",
                "Content-Length", "0", "Content-Type", "text/html");
        ForwardingHeaders.cleanResponse(h, false);
        for (String name : List.of("Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Proxy-Connection",
                "Proxy-Authenticate", "Upgrade", "X-Upstream-Internal")) {
            assertNull(h.get(name), name + " must not reach the client");
        }
        assertEquals(List.of("a=1; Path=/", "b=2; Path=/"), h.getAll("Set-Cookie"));
        assertEquals("https://app.example/done", h.get("Location"));
        assertEquals("0", h.get("Content-Length"));
        assertEquals("text/html", h.get("Content-Type"));
    }

    @Test
    void upgradeResponseKeepsUpgradeAndSetsConnectionUpgrade() {
        HttpHeaders h = headers("Connection", "Upgrade, X-Secret", "Upgrade", "websocket", "X-Secret", "s",
                "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Keep-Alive", "timeout=5");
        ForwardingHeaders.cleanResponse(h, true);
        assertEquals(List.of("upgrade"), h.getAll("Connection"));
        assertEquals("websocket", h.get("Upgrade"));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", h.get("Sec-WebSocket-Accept"));
        assertFalse(h.contains("X-Secret"));
        assertFalse(h.contains("Keep-Alive"));
    }
}
