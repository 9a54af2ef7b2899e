import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ListenerLimits;
import nangogateway.config.ProxyAction;
import nangogateway.config.RouteConfig;
import nangogateway.config.ServerSettings;
import nangogateway.config.UpstreamConfig;
import nangogateway.routing.PathPattern;
import nangogateway.server.Gateway;
import org.yaml.snakeyaml.Yaml;

/**
 * Stand-in for `nango-gateway run --config FILE` while the CLI does not exist yet (tests/bench/run.sh uses it
 * only when `java -jar nango-gateway.jar --help` fails). It reads the small subset of the route file that
 * tests/bench/bench.yaml uses (upstreams with url/timeouts/max_connections; listeners with bind, routes of
 * path + methods + proxy, otherwise.status), builds the config records directly, the way
 * tests/src/test/java/nangogateway/tests/TestConfigs.java does, and calls Gateway.start(config).
 * Anything outside that subset is refused, so the benchmark never runs a config other than the file says.
 */
public final class BenchLauncher {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: BenchLauncher FILE.yaml");
            System.exit(2);
        }
        GatewayConfig config = load(Path.of(args[0]));
        Gateway gateway = Gateway.start(config);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stop.countDown();
        }, "bench-shutdown"));
        System.out.println("bench launcher: gateway started from " + args[0] + " pid "
                + ProcessHandle.current().pid());
        stop.await();
    }

    @SuppressWarnings("unchecked")
    static GatewayConfig load(Path file) throws Exception {
        Map<String, Object> root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml().load(r);
        }
        Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
        for (var e : ((Map<String, Object>) root.get("upstreams")).entrySet()) {
            Map<String, Object> u = (Map<String, Object>) e.getValue();
            URI url = URI.create((String) u.get("url"));
            int port = url.getPort() > 0 ? url.getPort() : (url.getScheme().equals("https") ? 443 : 80);
            upstreams.put(e.getKey(), new UpstreamConfig(e.getKey(), url.getScheme(), url.getHost(), port,
                    dur(u.get("connect_timeout"), UpstreamConfig.DEFAULT_CONNECT_TIMEOUT),
                    dur(u.get("response_timeout"), UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT),
                    dur(u.get("idle_timeout"), UpstreamConfig.DEFAULT_IDLE_TIMEOUT),
                    u.get("max_connections") == null ? UpstreamConfig.DEFAULT_MAX_CONNECTIONS
                            : ((Number) u.get("max_connections")).intValue()));
        }
        List<ListenerConfig> listeners = new ArrayList<>();
        for (Object lo : (List<Object>) root.get("listeners")) {
            Map<String, Object> l = (Map<String, Object>) lo;
            if (l.containsKey("tls")) {
                throw new IllegalArgumentException("bench launcher: tls is not supported");
            }
            String bind = (String) l.get("bind");
            int colon = bind.lastIndexOf(':');
            String host = bind.substring(0, colon).replace("[", "").replace("]", "");
            int port = Integer.parseInt(bind.substring(colon + 1));
            List<RouteConfig> routes = new ArrayList<>();
            int line = 1;
            for (Object ro : (List<Object>) l.get("routes")) {
                Map<String, Object> r = (Map<String, Object>) ro;
                for (String k : r.keySet()) {
                    if (!Set.of("name", "path", "methods", "proxy").contains(k)) {
                        throw new IllegalArgumentException("bench launcher: unsupported route key " + k);
                    }
                }
                Object p = r.get("path");
                List<PathPattern> paths = new ArrayList<>();
                for (Object s : p instanceof List ? (List<Object>) p : List.of(p)) {
                    paths.add(PathPattern.compile((String) s));
                }
                Set<String> methods = new LinkedHashSet<>();
                if (r.get("methods") != null) {
                    for (Object m : (List<Object>) r.get("methods")) {
                        methods.add((String) m);
                    }
                }
                Map<String, Object> proxy = (Map<String, Object>) r.get("proxy");
                ProxyAction action = new ProxyAction((String) proxy.get("upstream"),
                        ProxyAction.DEFAULT_MAX_REQUEST_BODY, ProxyAction.BaseUrlOverrideMode.STRIP, null);
                routes.add(new RouteConfig((String) r.get("name"), paths, null, methods, List.of(), false, action,
                        line++));
            }
            int otherwise = 403;
            if (l.get("otherwise") instanceof Map<?, ?> o && o.get("status") != null) {
                otherwise = ((Number) o.get("status")).intValue();
            }
            listeners.add(new ListenerConfig((String) l.get("name"), host, port, null, routes, otherwise,
                    ListenerLimits.DEFAULTS));
        }
        return new GatewayConfig(file.toString(), upstreams, listeners, Map.of(), ServerSettings.DEFAULTS);
    }

    static Duration dur(Object v, Duration dflt) {
        if (v == null) {
            return dflt;
        }
        String s = v.toString().trim();
        if (s.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        }
        long n = Long.parseLong(s.substring(0, s.length() - 1));
        return switch (s.charAt(s.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("bench launcher: bad duration " + s);
        };
    }
}
