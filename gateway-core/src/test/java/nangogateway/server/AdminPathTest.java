package nangogateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Map;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ServerSettings;
import nangogateway.exchange.AdmittedRequest;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.net.Transport;
import nangogateway.observe.GatewayMetrics;
import nangogateway.target.RequestTarget;
import org.junit.jupiter.api.Test;

/** The admin paths {@code explain} and {@code routes} describe are exactly the ones the admin handler serves. */
class AdminPathTest {
    private static final GatewaySnapshot NO_UPSTREAMS = new GatewaySnapshot(
            new GatewayConfig("test", Map.of(), List.of(), Map.of(), ServerSettings.DEFAULTS));

    private static FullHttpResponse answer(HttpMethod method, String target) {
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(() -> NO_UPSTREAMS, new GatewayMetrics(),
                Transport.nio()));
        try {
            HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, target);
            ch.writeInbound(new AdmittedRequest(r, RequestTarget.parse(target).target(), false, 0, true));
            ch.runPendingTasks();
            return assertInstanceOf(FullHttpResponse.class, ch.readOutbound(), target);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static int status(HttpMethod method, String target) {
        FullHttpResponse r = answer(method, target);
        try {
            return r.status().code();
        } finally {
            r.release();
        }
    }

    @Test
    void everyAdminPathIsServedAndNothingElse() {
        for (AdminPath p : AdminPath.values()) {
            assertEquals(200, status(HttpMethod.GET, p.path()), p.path());
            assertEquals(200, status(HttpMethod.HEAD, p.path()), p.path());
            assertEquals(p, AdminPath.of(p.path()));
        }
        assertEquals(404, status(HttpMethod.GET, "/"));
        assertEquals(404, status(HttpMethod.GET, "/healthz/"));
        assertNull(AdminPath.of("/healthz/"));
    }

    @Test
    void otherMethodsGet405WithTheAllowExplainPrints() {
        FullHttpResponse r = answer(HttpMethod.POST, AdminPath.HEALTHZ.path());
        try {
            assertEquals(405, r.status().code());
            assertEquals(AdminPath.ALLOW, r.headers().get("Allow"));
            assertEquals("GET, HEAD", AdminPath.ALLOW);
        } finally {
            r.release();
        }
    }
}
