package nangogateway.tests;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import nangogateway.config.CallbackAction;
import nangogateway.config.GatewayConfig;
import nangogateway.config.HeaderCondition;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ProxyAction;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.config.UpstreamConfig;
import nangogateway.target.PathPattern;

/** Configs built in code for socket tests: the public Nango surface in front of a mock Nango. */
public final class TestConfigs {
    private TestConfigs() {
    }

    public static UpstreamConfig nango(int port, Duration responseTimeout) {
        return new UpstreamConfig("nango", "http", "127.0.0.1", port, Duration.ofSeconds(2), responseTimeout,
                Duration.ofSeconds(4), 64);
    }

    public static RouteConfig route(String name, String path, List<String> methods, RouteAction action) {
        return new RouteConfig(name, List.of(PathPattern.compile(path)), null, Set.copyOf(methods), List.of(), false,
                action, 1);
    }

    public static ProxyAction proxy(long maxBody) {
        return new ProxyAction("nango", maxBody, ProxyAction.BaseUrlOverrideMode.STRIP, null);
    }

    /** The public listener's routes, as conf/gateway.yaml has them (a representative subset). */
    public static List<RouteConfig> publicRoutes() {
        String bearer = "^Bearer nango_connect_session_[a-f0-9]{64}$";
        return List.of(
                new RouteConfig("oauth-callback-replay", List.of(PathPattern.compile("/integrations/oauth-callback")),
                        null, Set.of("GET"), List.of(), false,
                        new CallbackAction("nango", "/oauth/callback", 1024 * 1024, List.of()), 1),
                route("oauth-callback", "/oauth/callback", List.of("GET"), proxy(1024 * 1024)),
                route("oauth-connect", "/oauth/connect/{key}", List.of("GET"), proxy(1024 * 1024)),
                route("oauth2-auth", "/oauth2/auth/{key}", List.of("POST"), proxy(1024 * 1024)),
                new RouteConfig("connect-session", List.of(PathPattern.compile("/connect/session")), null,
                        Set.of("GET"), List.of(new HeaderCondition("Authorization", Pattern.compile(bearer))), false,
                        proxy(1024 * 1024), 1),
                new RouteConfig("sdk-websocket", List.of(PathPattern.compile("/")), null, Set.of("GET"), List.of(),
                        true, proxy(0), 1),
                route("webhooks", "/webhook/{env}/{key}", List.of("POST"), proxy(75L * 1024 * 1024)),
                route("health", "/healthz", List.of("GET", "HEAD"), new RespondAction(200, "ok\n", Map.of())),
                new RouteConfig("nango-proxy-api", List.of(), "/proxy/", Set.of(), List.of(), false,
                        proxy(150L * 1024 * 1024), 1));
    }

    public static GatewayConfig gateway(int nangoPort, Duration responseTimeout, ListenerLimits limits) {
        ListenerConfig pub = new ListenerConfig("public", "127.0.0.1", 0, null, publicRoutes(), 403, limits);
        return new GatewayConfig("test", Map.of("nango", nango(nangoPort, responseTimeout)), List.of(pub), Map.of(),
                ServerSettings.DEFAULTS);
    }

    public static GatewayConfig gateway(int nangoPort) {
        return gateway(nangoPort, Duration.ofSeconds(5), ListenerLimits.DEFAULTS);
    }
}
