package nangogateway.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import nangogateway.config.Block.Values;
import nangogateway.config.ProxyAction.BaseUrlOverrideMode;
import nangogateway.config.WebhookVerify.Encoding;
import nangogateway.config.WebhookVerify.Kind;
import nangogateway.target.PathPattern;
import nangogateway.target.RequestTarget;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the {@code listeners:} list: binds, TLS, limits, and each listener's routes with their actions. Every key
 * of every block is declared once below, with its reader, bounds and value when left out; a block is read first,
 * then the rules that tie its keys together are checked over the values read.
 */
final class ListenerParser {
    /** RFC 9110 token; '_' is left out because the request guard refuses header names holding it. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^`|~0-9A-Za-z-]+");
    private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z0-9_-]*");
    private static final Set<String> GET_ONLY = Set.of("GET");

    /** Headers a callback must not copy: the gateway frames and addresses the replay itself. */
    private static final Map<String, String> CALLBACK_FORBIDDEN = forbiddenCallbackHeaders();
    /** Headers a respond route must not set: the gateway frames its responses itself. */
    private static final Set<String> RESPOND_FORBIDDEN = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection");

    // tls: {cert, key, http2}
    private static final Key<Path> CERT =
            Key.required("cert", "cert: /etc/nango-gateway/tls/fullchain.pem", ListenerParser::path);
    private static final Key<Path> PRIVATE_KEY =
            Key.required("key", "key: /etc/nango-gateway/tls/privkey.pem", ListenerParser::path);
    private static final Key<Boolean> HTTP2 = Key.bool("http2", true);
    private static final Block TLS = new Block(CERT, PRIVATE_KEY, HTTP2);

    // limits: sizes are bounded well below Integer.MAX_VALUE because the decoder's limits are ints.
    private static final ListenerLimits LIMIT_DEFAULTS = ListenerLimits.DEFAULTS;
    private static final Key<Long> MAX_REQUEST_LINE =
            Key.size("max_request_line", LIMIT_DEFAULTS.maxRequestLine(), 1, 64L << 20);
    private static final Key<Long> MAX_HEADER_BLOCK =
            Key.size("max_header_block", LIMIT_DEFAULTS.maxHeaderBlock(), 1, 64L << 20);
    private static final Key<Integer> MAX_HEADERS = Key.integer("max_headers", LIMIT_DEFAULTS.maxHeaders(), 1, 10_000);
    private static final Key<Duration> HEADER_TIMEOUT = Key.duration("header_timeout", LIMIT_DEFAULTS.headerTimeout());
    private static final Key<Duration> KEEPALIVE_TIMEOUT =
            Key.duration("keepalive_timeout", LIMIT_DEFAULTS.keepaliveTimeout());
    private static final Key<Duration> BODY_TIMEOUT = Key.duration("body_timeout", LIMIT_DEFAULTS.bodyTimeout());
    private static final Key<Long> MIN_BODY_RATE =
            Key.size("min_body_rate", LIMIT_DEFAULTS.minBodyRate(), 0, 1L << 30);
    private static final Key<Duration> SEND_TIMEOUT = Key.duration("send_timeout", LIMIT_DEFAULTS.sendTimeout());
    private static final Key<Long> MIN_SEND_RATE =
            Key.size("min_send_rate", LIMIT_DEFAULTS.minSendRate(), 0, 1L << 30);
    private static final Block LIMITS = new Block(MAX_REQUEST_LINE, MAX_HEADER_BLOCK, MAX_HEADERS, HEADER_TIMEOUT,
            KEEPALIVE_TIMEOUT, BODY_TIMEOUT, MIN_BODY_RATE, SEND_TIMEOUT, MIN_SEND_RATE);

    // rate_limit: {rate, burst}, on a listener or a route
    private static final Key<Double> RATE = Key.required("rate", "rate: 10", ListenerParser::rate);
    /** Left out, the burst is the rate rounded up. */
    private static final Key<Integer> BURST = Key.integer("burst", null, 1, 1_000_000);
    private static final Block RATE_LIMIT = new Block(RATE, BURST);
    private static final Key<RateLimit> RATE_LIMIT_KEY = Key.of("rate_limit", null, ListenerParser::rateLimit);

    // otherwise: {status}
    private static final Key<Integer> OTHERWISE_STATUS = Key.integer("status", 403, 400, 599);
    private static final Block OTHERWISE = new Block(OTHERWISE_STATUS);

    // access_log: {format, redact}
    private static final Key<AccessLogFormat> FORMAT = Key.enumOf("format", ListenerOptions.DEFAULTS.accessLogFormat(),
            Map.of("combined", AccessLogFormat.COMBINED, "json", AccessLogFormat.JSON), "combined (nginx's) or json");
    private static final Key<Set<String>> REDACT = Key.of("redact", Set.of(), ListenerParser::redact);
    private static final Block ACCESS_LOG = new Block(FORMAT, REDACT);

    // a listener
    private static final Key<String> LISTENER_NAME = name("listener", "name: public");
    private static final Key<Addresses.Bind> BIND = Key.required("bind", "bind: 0.0.0.0:443", ListenerParser::bind);
    private static final Key<TlsConfig> TLS_KEY = Key.of("tls", null, ListenerParser::tls);
    /** The route items; each is read as a route by its listener, which knows the declared upstreams. */
    private static final Key<List<Node>> ROUTES = Key.of("routes", List.of(), (r, node, what, label) -> r.list(node, label));
    private static final Key<Integer> OTHERWISE_KEY = Key.of("otherwise", 403, (r, node, what, label) -> {
        Values o = OTHERWISE.read(r, node, label);
        return o == null ? null : o.get(OTHERWISE_STATUS);
    });
    private static final Key<ListenerLimits> LIMITS_KEY = Key.of("limits", LIMIT_DEFAULTS, ListenerParser::limits);
    private static final Key<String> HSTS = Key.string("hsts");
    private static final Key<Boolean> REDIRECT = Key.bool("redirect_to_https", false);
    private static final Key<Path> WEBROOT = Key.of("acme_webroot", null, ListenerParser::path);
    private static final Key<List<Cidr>> TRUSTED_PROXIES =
            Key.of("trusted_proxies", List.of(), ListenerParser::trustedProxies);
    private static final Key<Integer> MAX_CONNECTIONS = Key.integer("max_connections", 0, 0, 10_000_000);
    private static final Key<Integer> MAX_PER_CLIENT = Key.integer("max_connections_per_client", 0, 0, 10_000_000);
    private static final Key<AccessLog> ACCESS_LOG_KEY = Key.of("access_log",
            new AccessLog(ListenerOptions.DEFAULTS.accessLogFormat(), Set.of()), ListenerParser::accessLog);
    private static final Key<Boolean> ADMIN = Key.bool("admin", false);
    private static final Key<Boolean> ADMIN_PUBLIC = Key.bool("admin_public", false);
    private static final Block LISTENER = new Block(LISTENER_NAME, BIND, TLS_KEY, ROUTES, OTHERWISE_KEY, LIMITS_KEY,
            HSTS, REDIRECT, WEBROOT, TRUSTED_PROXIES, RATE_LIMIT_KEY, MAX_CONNECTIONS, MAX_PER_CLIENT, ACCESS_LOG_KEY,
            ADMIN, ADMIN_PUBLIC);

    // verify: the webhook signature check of a proxy action
    private static final Key<Kind> PROVIDER = Key.required("provider", "provider: slack", Key.oneOf(
            Map.of("slack", Kind.SLACK, "github", Kind.GITHUB, "hmac", Kind.HMAC),
            "slack, github or hmac (any header/algorithm)"));
    private static final Key<Secret> SECRET_FILE = Key.required("secret_file",
            "secret_file: /run/credentials/nango-gateway.service/slack", ListenerParser::secret);
    /** Read for provider hmac only, so it is required there and nowhere else. */
    private static final Key<String> SIGNATURE_HEADER =
            Key.required("header", "header: X-Signature", ListenerParser::signatureHeader);
    private static final Key<String> ALGORITHM = Key.enumOf("algorithm", "HmacSHA256",
            Map.of("sha256", "HmacSHA256", "sha512", "HmacSHA512"), "sha256 or sha512");
    private static final Key<Encoding> ENCODING = Key.enumOf("encoding", Encoding.HEX,
            Map.of("hex", Encoding.HEX, "base64", Encoding.BASE64), "hex or base64");
    private static final Key<String> SIGNATURE_PREFIX = Key.text("prefix", "");
    private static final Key<Duration> TOLERANCE = Key.duration("tolerance", Duration.ofMinutes(5));
    private static final Block VERIFY = new Block(PROVIDER, SECRET_FILE, SIGNATURE_HEADER, ALGORITHM, ENCODING,
            SIGNATURE_PREFIX, TOLERANCE);
    /** What slack and github fix and provider hmac lets the file name. */
    private static final List<Key<?>> HMAC_ONLY = List.of(SIGNATURE_HEADER, ALGORITHM, ENCODING, SIGNATURE_PREFIX);

    // proxy: and callback: name an upstream; the route checks it against the declared ones.
    private static final Key<String> UPSTREAM = Key.required("upstream", "upstream: nango", (r, node, what, label) ->
            r.string(node, label));
    private static final Key<Long> MAX_REQUEST_BODY =
            Key.size("max_request_body", ProxyAction.DEFAULT_MAX_REQUEST_BODY, 0, 1L << 40);
    private static final Key<BaseUrlOverrideMode> BASE_URL_OVERRIDE = Key.enumOf("base_url_override",
            BaseUrlOverrideMode.STRIP, Map.of("enforce", BaseUrlOverrideMode.ENFORCE, "strip", BaseUrlOverrideMode.STRIP),
            "enforce (apply providers:) or strip (remove the header)");
    private static final Key<String> PROVIDER_KEY_PARAM = Key.string("provider_key_param");
    private static final Key<WebhookVerify> VERIFY_KEY = Key.of("verify", null, ListenerParser::verify);
    private static final Key<Boolean> REQUEST_BUFFERING = Key.bool("request_buffering", true);
    private static final Key<Boolean> RESPONSE_BUFFERING = Key.bool("response_buffering", true);
    private static final Block PROXY = new Block(UPSTREAM, MAX_REQUEST_BODY, BASE_URL_OVERRIDE, PROVIDER_KEY_PARAM,
            VERIFY_KEY, REQUEST_BUFFERING, RESPONSE_BUFFERING);

    private static final Key<String> CALLBACK_PATH =
            Key.of("path", CallbackAction.DEFAULT_PATH, ListenerParser::callbackPath);
    private static final Key<Long> MAX_RESPONSE_BODY =
            Key.size("max_response_body", CallbackAction.DEFAULT_MAX_RESPONSE_BODY, 1, 1L << 30);
    private static final Key<List<String>> FORWARD_HEADERS =
            Key.of("forward_headers", List.of(), ListenerParser::forwardHeaders);
    private static final Block CALLBACK = new Block(UPSTREAM, CALLBACK_PATH, MAX_RESPONSE_BODY, FORWARD_HEADERS);

    private static final Key<Integer> RESPOND_STATUS = Key.required("status", "status: 204", Key.integer(200, 599));
    private static final Key<String> RESPOND_BODY = Key.text("body", "");
    private static final Key<Map<String, String>> RESPOND_HEADERS =
            Key.of("headers", Map.of(), ListenerParser::responseHeaders);
    private static final Block RESPOND = new Block(RESPOND_STATUS, RESPOND_BODY, RESPOND_HEADERS);

    // a route
    private static final Key<String> ROUTE_NAME = name("route", "name: oauth-connect");
    private static final Key<List<PathPattern>> PATH = Key.of("path", List.of(), ListenerParser::paths);
    private static final Key<String> PREFIX = Key.of("prefix", null, ListenerParser::prefix);
    private static final Key<Set<String>> METHODS = Key.of("methods", Set.of(), ListenerParser::methods);
    private static final Key<List<HeaderCondition>> HEADERS = Key.of("headers", List.of(), ListenerParser::headers);
    private static final Key<Boolean> WEBSOCKET = Key.bool("websocket", false);
    private static final Key<Values> PROXY_KEY = Key.block("proxy", PROXY);
    private static final Key<Values> CALLBACK_KEY = Key.block("callback", CALLBACK);
    private static final Key<RespondAction> RESPOND_KEY = Key.of("respond", null, ListenerParser::respond);
    private static final Key<MetricsAction> METRICS_KEY = Key.of("metrics", null, ListenerParser::metrics);
    private static final List<Key<?>> MATCHES = List.of(PATH, PREFIX);
    private static final List<Key<?>> ACTIONS = List.of(PROXY_KEY, CALLBACK_KEY, RESPOND_KEY, METRICS_KEY);
    private static final Block ROUTE = new Block(ROUTE_NAME, PATH, PREFIX, METHODS, HEADERS, WEBSOCKET, RATE_LIMIT_KEY,
            PROXY_KEY, CALLBACK_KEY, RESPOND_KEY, METRICS_KEY);

    private final NodeReader r;
    private final Set<String> upstreams;

    ListenerParser(NodeReader reader, Set<String> declaredUpstreams) {
        this.r = reader;
        this.upstreams = declaredUpstreams;
    }

    private static Map<String, String> forbiddenCallbackHeaders() {
        Map<String, String> m = new HashMap<>();
        for (String h : List.of("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                "proxy-authorization", "proxy-authenticate")) {
            m.put(h, "is hop-by-hop: it describes the browser's connection, not the request");
        }
        for (String h : List.of("host", "content-length", "transfer-encoding")) {
            m.put(h, "frames or addresses the request, and the gateway sets it itself");
        }
        for (String h : List.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "via", "x-request-id")) {
            m.put(h, "is set by the gateway itself");
        }
        return m;
    }

    List<ListenerConfig> listeners(Node node) {
        List<ListenerConfig> result = new ArrayList<>();
        if (node == null) {
            return result;
        }
        List<Node> items = r.list(node, "listeners");
        if (items == null) {
            return result;
        }
        if (items.isEmpty()) {
            r.error(node, "listeners must list at least one listener, e.g. - {name: public, bind: 0.0.0.0:443}");
        }
        Map<String, Node> names = new HashMap<>();
        Map<Integer, Node> ports = new HashMap<>();
        for (Node item : items) {
            Values v = LISTENER.read(r, item, "a listener");
            if (v == null) {
                continue;
            }
            String name = v.get(LISTENER_NAME);
            if (name != null) {
                Node first = names.putIfAbsent(name, v.node(LISTENER_NAME));
                if (first != null) {
                    v.error(LISTENER_NAME, "listener name '" + name + "' is already used at line "
                            + NodeReader.line(first) + ": give each listener its own name");
                }
            }
            ListenerConfig l = listener(v.about("listener '" + (name == null ? "?" : name) + "'"), ports);
            if (l != null) {
                result.add(l);
            }
        }
        return result;
    }

    /**
     * A name key: the name is read before its owner has one to be called by, so it carries its own label.
     *
     * @param example the {@code name: ...} line to suggest
     */
    private static Key<String> name(String thing, String example) {
        return Key.required("name", example, (r, node, what, label) -> {
            String name = r.string(node, thing + " name");
            if (name != null && !ConfigLoader.NAME.matcher(name).matches()) {
                r.error(node, thing + " name '" + name + "' must start with a letter or digit and hold only letters,"
                        + " digits, '.', '_' or '-', e.g. " + example.substring(example.indexOf(' ') + 1));
                return null;
            }
            return name;
        });
    }

    /** @param ports the bind value of each port bound so far, to refuse a second listener on one */
    private ListenerConfig listener(Values v, Map<Integer, Node> ports) {
        List<Node> routeItems = v.get(ROUTES);
        List<RouteConfig> routes = routeItems == null ? null : routes(routeItems, v.what());
        v.readAll();
        listenerRules(v, routes, ports);
        if (!v.ok() || routes == null) {
            return null;
        }
        AccessLog log = v.get(ACCESS_LOG_KEY);
        ListenerOptions options = new ListenerOptions(v.get(HSTS), v.get(REDIRECT), v.get(WEBROOT),
                v.get(TRUSTED_PROXIES), v.get(RATE_LIMIT_KEY), v.get(MAX_CONNECTIONS), v.get(MAX_PER_CLIENT),
                log.format(), log.redact(), v.get(ADMIN));
        Addresses.Bind bind = v.get(BIND);
        return new ListenerConfig(v.get(LISTENER_NAME), bind.host(), bind.port(), v.get(TLS_KEY), routes,
                v.get(OTHERWISE_KEY), v.get(LIMITS_KEY), options);
    }

    /** The rules across a listener's keys, over the values read; a rule whose values failed to read is skipped. */
    private void listenerRules(Values v, List<RouteConfig> routes, Map<Integer, Node> ports) {
        String what = v.what();
        Addresses.Bind bind = v.get(BIND);
        // One port, one listener, whatever the hosts: 0.0.0.0:443 and 127.0.0.1:443 cannot both bind, and two
        // specific addresses on one port are rarely meant. Port 0 picks a free port each time.
        if (bind != null && bind.port() != 0) {
            Node first = ports.putIfAbsent(bind.port(), v.node(BIND));
            if (first != null) {
                v.error(BIND, what + " binds port " + bind.port() + ", already bound at line "
                        + NodeReader.line(first) + ": give each listener its own port");
            }
        }
        boolean tls = v.get(TLS_KEY) != null;
        String hsts = v.get(HSTS);
        if (hsts != null && !tls) {
            v.error(HSTS, what + " hsts: Strict-Transport-Security is only meaningful over TLS; add"
                    + " tls: {cert, key} or remove hsts");
        } else if (hsts != null && !hsts.matches("max-age=\\d+(\\s*;\\s*(includeSubDomains|preload))*")) {
            v.error(HSTS, what + " hsts '" + hsts + "' is not a Strict-Transport-Security value:"
                    + " write e.g. 'max-age=63072000; includeSubDomains'");
        }
        boolean redirect = Boolean.TRUE.equals(v.get(REDIRECT));
        boolean hasRoutes = routes != null && !routes.isEmpty();
        if (redirect && hasRoutes) {
            v.error(REDIRECT, what + " redirects everything to https, so its routes would never be used: remove"
                    + " 'routes' or redirect_to_https");
        }
        if (redirect && tls) {
            v.error(REDIRECT, what + " already speaks TLS: redirect_to_https belongs on the plain-HTTP listener"
                    + " (port 80)");
        }
        if (v.get(WEBROOT) != null && !redirect) {
            v.error(WEBROOT, what + " acme_webroot is served by the redirect listener: add redirect_to_https: true");
        }
        if (Boolean.TRUE.equals(v.get(ADMIN))) {
            if (hasRoutes || redirect) {
                v.error(ADMIN, what + " is an admin listener: it serves /healthz, /readyz and /metrics only, so it"
                        + " takes no routes and no redirect_to_https");
            }
            // The bind as written, so this applies even when the bind itself failed to parse.
            String bindText = v.node(BIND) instanceof ScalarNode s ? s.getValue() : null;
            boolean loopback = bindText != null && (bindText.startsWith("127.") || bindText.startsWith("[::1]")
                    || bindText.startsWith("localhost:"));
            if (!loopback && !Boolean.TRUE.equals(v.get(ADMIN_PUBLIC))) {
                v.error(ADMIN, what + " is an admin listener on a non-loopback address: bind it to 127.0.0.1"
                        + " (metrics and readiness are for your own infrastructure), or add admin_public: true if a"
                        + " firewall guards it");
            }
        } else if (Boolean.TRUE.equals(v.get(ADMIN_PUBLIC))) {
            v.error(ADMIN_PUBLIC, what + " admin_public applies to an admin listener: add admin: true");
        }
    }

    private static Addresses.Bind bind(NodeReader r, Node node, String what, String label) {
        String text = r.string(node, label);
        if (text == null) {
            return null;
        }
        try {
            return Addresses.parseBind(text);
        } catch (IllegalArgumentException e) {
            r.error(node, "bad bind address '" + text + "' for " + what + ": " + e.getMessage());
            return null;
        }
    }

    private static TlsConfig tls(NodeReader r, Node node, String what, String label) {
        Values v = TLS.read(r, node, label);
        return v == null || !v.readAll().ok() ? null : new TlsConfig(v.get(CERT), v.get(PRIVATE_KEY), v.get(HTTP2));
    }

    private static ListenerLimits limits(NodeReader r, Node node, String what, String label) {
        Values v = LIMITS.read(r, node, label);
        if (v == null || !v.readAll().ok()) {
            return null;
        }
        return new ListenerLimits(v.get(MAX_REQUEST_LINE).intValue(), v.get(MAX_HEADER_BLOCK).intValue(),
                v.get(MAX_HEADERS), v.get(HEADER_TIMEOUT), v.get(KEEPALIVE_TIMEOUT), v.get(BODY_TIMEOUT),
                v.get(MIN_BODY_RATE), v.get(SEND_TIMEOUT), v.get(MIN_SEND_RATE));
    }

    /** {@code rate_limit: {rate: 10, burst: 20}}: requests per second per client address, and the burst. */
    private static RateLimit rateLimit(NodeReader r, Node node, String what, String label) {
        Values v = RATE_LIMIT.read(r, node, label);
        if (v == null || !v.readAll().ok()) {
            return null;
        }
        double rate = v.get(RATE);
        Integer burst = v.get(BURST);
        return new RateLimit(rate, burst != null ? burst : (int) Math.max(1, Math.ceil(rate)));
    }

    private static Double rate(NodeReader r, Node node, String what, String label) {
        String text = r.string(node, label);
        if (text == null) {
            return null;
        }
        Double rate;
        try {
            rate = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            rate = null;
        }
        if (rate == null || !(rate > 0) || rate > 1_000_000 || rate.isNaN()) {
            r.error(node, label + " must be requests per second, a number above 0 such as 10 or 0.5, not '" + text
                    + "'");
            return null;
        }
        return rate;
    }

    private record AccessLog(AccessLogFormat format, Set<String> redact) {
    }

    private static AccessLog accessLog(NodeReader r, Node node, String what, String label) {
        Values v = ACCESS_LOG.read(r, node, label);
        return v == null || !v.readAll().ok() ? null : new AccessLog(v.get(FORMAT), v.get(REDACT));
    }

    private static Set<String> redact(NodeReader r, Node node, String what, String label) {
        List<Node> items = r.list(node, label);
        if (items == null) {
            return null;
        }
        int errors = r.errorCount();
        Set<String> names = new LinkedHashSet<>();
        for (Node item : items) {
            String name = r.string(item, label + " entry");
            if (name != null) {
                names.add(name.toLowerCase(Locale.ROOT));
            }
        }
        return r.errorCount() == errors ? names : null;
    }

    private static List<Cidr> trustedProxies(NodeReader r, Node node, String what, String label) {
        List<Node> items = r.list(node, label);
        if (items == null) {
            return null;
        }
        int errors = r.errorCount();
        List<Cidr> trusted = new ArrayList<>();
        for (Node item : items) {
            String text = r.string(item, label + " entry");
            if (text != null) {
                try {
                    trusted.add(Cidr.parse(text));
                } catch (IllegalArgumentException e) {
                    r.error(item, label + ": " + e.getMessage());
                }
            }
        }
        return r.errorCount() == errors ? trusted : null;
    }

    private static Path path(NodeReader r, Node node, String what, String label) {
        String text = r.string(node, label);
        if (text == null) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            r.error(node, label + " '" + text + "' is not a file path: " + e.getReason());
            return null;
        }
    }

    /**
     * @return null when any route failed; an unknown key alone does not fail one, so the listener's rules still
     *     see its routes
     */
    private List<RouteConfig> routes(List<Node> items, String listener) {
        List<RouteConfig> routes = new ArrayList<>();
        Map<String, Node> names = new HashMap<>();
        boolean failed = false;
        for (Node item : items) {
            RouteConfig route = route(item, listener, names);
            failed |= route == null;
            if (route != null) {
                routes.add(route);
            }
        }
        return failed ? null : routes;
    }

    private RouteConfig route(Node node, String listener, Map<String, Node> names) {
        Values v = ROUTE.read(r, node, "a route");
        if (v == null) {
            return null;
        }
        String name = v.get(ROUTE_NAME);
        if (name != null) {
            Node first = names.putIfAbsent(name, v.node(ROUTE_NAME));
            if (first != null) {
                v.error(ROUTE_NAME, "route name '" + name + "' is already used at line " + NodeReader.line(first)
                        + " in " + listener + ": give each route of a listener its own name");
            }
        }
        String what = "route '" + (name == null ? "?" : name) + "'";
        v.about(what);

        // Exclusive keys are settled before reading, so a conflicting pair is reported once, not with its contents.
        List<Key<?>> matches = v.present(MATCHES);
        if (matches.size() > 1) {
            v.errorAtKey(PREFIX, what + " has both 'path' and 'prefix': keep one ('path' for patterns such as"
                    + " /oauth/connect/{key}, 'prefix' for a subtree such as /proxy/)");
        } else if (matches.isEmpty()) {
            v.error(what + " needs 'path' (a pattern such as /oauth/connect/{key}, or a list of them) or"
                    + " 'prefix' (a subtree such as /proxy/)");
        }
        List<PathPattern> paths = matches.size() == 1 ? v.get(PATH) : List.of();
        String prefix = matches.size() == 1 ? v.get(PREFIX) : null;
        Set<String> methods = v.get(METHODS);
        v.get(HEADERS);
        Boolean websocket = v.get(WEBSOCKET);
        List<Key<?>> actions = v.present(ACTIONS);
        RouteAction action = null;
        if (actions.isEmpty()) {
            v.error(what + " needs exactly one action: proxy: {upstream: nango}, callback: {upstream: nango},"
                    + " respond: {status: 204} or metrics: {}");
        } else if (actions.size() > 1) {
            v.errorAtKey(actions.get(1), what + " has both '" + actions.get(0) + "' and '" + actions.get(1)
                    + "': a route has exactly one action (proxy, callback, respond or metrics)");
        } else {
            Key<?> k = actions.get(0);
            action = k == PROXY_KEY ? proxyAction(v.get(PROXY_KEY), paths, prefix)
                    : k == CALLBACK_KEY ? callbackAction(v.get(CALLBACK_KEY))
                    : k == RESPOND_KEY ? v.get(RESPOND_KEY) : v.get(METRICS_KEY);
        }
        v.get(RATE_LIMIT_KEY);

        // A callback replays GET only, and a WebSocket handshake is a GET: other methods can never be meant.
        if (action instanceof CallbackAction && methods != null) {
            methods = getOnly(v, methods, what + " is a callback: it replays GET only (other methods get 405 with"
                    + " Allow: GET); write methods: [GET] or leave methods out");
        }
        if (Boolean.TRUE.equals(websocket)) {
            if (action != null && !(action instanceof ProxyAction)) {
                v.error(WEBSOCKET, what + ": websocket: true needs a proxy action, the tunnel goes to an upstream");
            }
            if (methods != null && !(action instanceof CallbackAction)) {
                methods = getOnly(v, methods, what + " is a websocket route: a WebSocket handshake is a GET; write"
                        + " methods: [GET] or leave methods out");
            }
        }
        if (!v.ok() || action == null) {
            return null;
        }
        return new RouteConfig(name, paths, prefix, methods, v.get(HEADERS), websocket, action, NodeReader.line(node),
                v.get(RATE_LIMIT_KEY));
    }

    /** {@code [GET]} when methods were left out; null (reported) when they list anything else. */
    private static Set<String> getOnly(Values v, Set<String> methods, String message) {
        if (!v.has(METHODS)) {
            return GET_ONLY;
        }
        if (!methods.equals(GET_ONLY)) {
            v.error(METHODS, message);
            return null;
        }
        return methods;
    }

    /** A proxy action once its upstream is declared and its provider_key_param names a parameter of the route. */
    private ProxyAction proxyAction(Values p, List<PathPattern> paths, String prefix) {
        if (p == null) {
            return null;
        }
        knownUpstream(p);
        String param = p.get(PROVIDER_KEY_PARAM);
        if (param != null && prefix != null) {
            p.error(PROVIDER_KEY_PARAM, p.what() + " provider_key_param needs path patterns with {" + param + "}; a"
                    + " prefix route has no parameters");
        } else if (param != null && paths != null) { // null paths were already reported
            for (PathPattern pattern : paths) {
                if (!pattern.paramNames().contains(param)) {
                    p.error(PROVIDER_KEY_PARAM, p.what() + " provider_key_param '" + param + "' is not a parameter of"
                            + " path '" + pattern.text() + "': name a {parameter} that every path of the route has"
                            + (pattern.paramNames().isEmpty() ? ""
                                    : " (here: " + String.join(", ", pattern.paramNames()) + ")"));
                    break;
                }
            }
        }
        return p.ok() ? new ProxyAction(p.get(UPSTREAM), p.get(MAX_REQUEST_BODY), p.get(BASE_URL_OVERRIDE), param,
                p.get(VERIFY_KEY), p.get(REQUEST_BUFFERING), p.get(RESPONSE_BUFFERING)) : null;
    }

    private CallbackAction callbackAction(Values c) {
        if (c == null) {
            return null;
        }
        knownUpstream(c);
        return c.ok() ? new CallbackAction(c.get(UPSTREAM), c.get(CALLBACK_PATH), c.get(MAX_RESPONSE_BODY),
                c.get(FORWARD_HEADERS)) : null;
    }

    private void knownUpstream(Values action) {
        String name = action.get(UPSTREAM);
        if (name != null && !upstreams.contains(name)) {
            String guess = NodeReader.didYouMean(name, upstreams);
            action.error(UPSTREAM, "unknown upstream '" + name + "' in " + action.what()
                    + (guess == null ? "" : "; did you mean '" + guess + "'?") + " defined upstreams: "
                    + (upstreams.isEmpty() ? "none" : String.join(", ", upstreams)));
        }
    }

    /** {@code metrics: {}}: the Prometheus endpoint; it takes no settings. */
    private static MetricsAction metrics(NodeReader r, Node node, String what, String label) {
        if (node instanceof MappingNode m && !m.getValue().isEmpty()) {
            r.error(m.getValue().get(0).getKeyNode(), label + " takes no settings: write metrics: {}");
            return null;
        }
        return r.fields(node, label, List.of()) == null ? null : new MetricsAction();
    }

    private static List<PathPattern> paths(NodeReader r, Node node, String what, String label) {
        List<Node> items;
        if (node instanceof SequenceNode seq) {
            items = seq.getValue();
            if (items.isEmpty()) {
                r.error(node, label + " list is empty: write at least one pattern, e.g. path: /oauth/callback");
                return null;
            }
        } else {
            items = List.of(node);
        }
        int errors = r.errorCount();
        List<PathPattern> patterns = new ArrayList<>();
        for (Node item : items) {
            String text = r.string(item, label);
            if (text != null) {
                try {
                    patterns.add(PathPattern.compile(text));
                } catch (IllegalArgumentException e) {
                    r.error(item, "bad path pattern '" + text + "' in " + what + ": " + e.getMessage());
                }
            }
        }
        return r.errorCount() == errors ? patterns : null;
    }

    private static String prefix(NodeReader r, Node node, String what, String label) {
        String prefix = r.string(node, label);
        if (prefix == null) {
            return null;
        }
        if (!prefix.startsWith("/") || !prefix.endsWith("/")) {
            String trimmed = prefix.replaceAll("^/+|/+$", "");
            r.error(node, label + " '" + prefix + "' must start and end with '/' so it covers whole segments:"
                    + " write " + (trimmed.isEmpty() ? "/" : "/" + trimmed + "/"));
            return null;
        }
        if (prefix.contains("{") || prefix.contains("}")) {
            r.error(node, label + " '" + prefix + "' is matched literally: use 'path:' for {name} parameters");
            return null;
        }
        RequestTarget.Verdict v = RequestTarget.parse(prefix);
        if (!v.accepted() || v.target().query() != null) {
            r.error(node, label + " '" + prefix + "' can never match an accepted request ("
                    + (v.accepted() ? "it holds '?'" : v.rejection()) + "): write a canonical path such as /proxy/");
            return null;
        }
        return prefix;
    }

    private static Set<String> methods(NodeReader r, Node node, String what, String label) {
        List<Node> items = r.list(node, label);
        if (items == null) {
            return null;
        }
        if (items.isEmpty()) {
            r.error(node, label + " is empty, so nothing would match: list methods, e.g. [GET], or leave methods out"
                    + " to allow every method");
            return null;
        }
        int errors = r.errorCount();
        Set<String> methods = new LinkedHashSet<>();
        for (Node item : items) {
            String m = r.string(item, what + " method");
            if (m == null) {
                continue;
            }
            if (!METHOD.matcher(m).matches()) {
                String upper = m.toUpperCase(Locale.ROOT);
                r.error(item, "method '" + m + "' in " + what + " must be an upper-case HTTP method: write "
                        + (METHOD.matcher(upper).matches() ? upper : "e.g. GET"));
            } else if (!methods.add(m)) {
                r.error(item, "method " + m + " is listed twice in " + what + ": list it once");
            }
        }
        return r.errorCount() == errors ? methods : null;
    }

    /** {@code headers: {Name: regex}}: conditions a request's headers must meet for the route to match. */
    private static List<HeaderCondition> headers(NodeReader r, Node node, String what, String label) {
        NodeReader.Fields f = r.fields(node, label, null);
        if (f == null) {
            return null;
        }
        int errors = r.errorCount();
        List<HeaderCondition> conditions = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        for (Map.Entry<String, NodeTuple> e : f.entries.entrySet()) {
            Node valueNode = e.getValue().getValueNode();
            String name = headerName(r, e.getKey(), e.getValue().getKeyNode(), what, seen);
            String regex = r.string(valueNode, what + " header " + e.getKey());
            if (name == null || regex == null) {
                continue;
            }
            try {
                conditions.add(new HeaderCondition(name, Pattern.compile(regex)));
            } catch (PatternSyntaxException ex) {
                r.error(valueNode, "invalid regex for header '" + name + "' in " + what + ": " + ex.getDescription()
                        + (ex.getIndex() >= 0 ? " at index " + ex.getIndex() : "") + " of '" + regex
                        + "'; write a Java regular expression for the whole value, e.g. '^Bearer [A-Za-z0-9_]+$'");
            }
        }
        return r.errorCount() == errors ? conditions : null;
    }

    /** A valid header name, not given before in any letter case; null (reported) otherwise. */
    private static String headerName(NodeReader r, String name, Node at, String what, Map<String, Node> seen) {
        if (!HEADER_NAME.matcher(name).matches()) {
            r.error(at, "'" + name + "' in " + what + " is not a header name: write letters, digits and '-', e.g."
                    + " " + (name.contains("_") ? name.replace('_', '-') : "X-Request-Id")
                    + (name.contains("_") ? " (names with '_' are refused before routing)" : ""));
            return null;
        }
        Node first = seen.putIfAbsent(name.toLowerCase(Locale.ROOT), at);
        if (first != null) {
            r.error(at, "header '" + name + "' appears twice in " + what + " (first at line " + NodeReader.line(first)
                    + "; header names ignore case): list it once");
            return null;
        }
        return name;
    }

    /**
     * {@code verify: {provider: slack|github|hmac, secret_file: ...}}. The secret is read here, so a reload
     * re-reads it; it never appears in the YAML.
     */
    private static WebhookVerify verify(NodeReader r, Node node, String what, String label) {
        Values v = VERIFY.read(r, node, label);
        if (v == null) {
            return null;
        }
        Kind kind = v.get(PROVIDER);
        Secret secret = v.get(SECRET_FILE);
        Duration tolerance = v.get(TOLERANCE);
        if (!v.ok()) {
            return null;
        }
        if (kind != Kind.HMAC) {
            String provider = kind.name().toLowerCase(Locale.ROOT);
            for (Key<?> k : HMAC_ONLY) {
                if (v.has(k)) {
                    v.errorAtKey(k, label + " '" + k.name + "' is fixed for provider " + provider
                            + ": remove it, or use provider: hmac");
                    return null;
                }
            }
            return kind == Kind.SLACK ? WebhookVerify.slack(secret.bytes(), secret.file(), tolerance)
                    : WebhookVerify.github(secret.bytes(), secret.file());
        }
        String header = v.get(SIGNATURE_HEADER);
        String algorithm = v.get(ALGORITHM);
        Encoding encoding = v.get(ENCODING);
        String prefix = v.get(SIGNATURE_PREFIX);
        return v.ok() ? new WebhookVerify(Kind.HMAC, secret.bytes(), secret.file(), header, algorithm, encoding,
                prefix, tolerance) : null;
    }

    /** A signing secret as read from its file, without the trailing newline. */
    private record Secret(byte[] bytes, String file) {
    }

    private static Secret secret(NodeReader r, Node node, String what, String label) {
        Path file = path(r, node, what, label);
        if (file == null) {
            return null;
        }
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            text = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                    : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            if (text.isEmpty()) {
                r.error(node, label + " " + file + " is empty: put the signing secret in it");
                return null;
            }
            return new Secret(text.getBytes(StandardCharsets.UTF_8), file.toString());
        } catch (IOException | RuntimeException e) {
            r.error(node, label + " " + file + " cannot be read (" + e.getClass().getSimpleName()
                    + "): check the path and that the gateway's user may read it");
            return null;
        }
    }

    private static String signatureHeader(NodeReader r, Node node, String what, String label) {
        String header = r.string(node, label);
        if (header != null && !HEADER_NAME.matcher(header).matches()) {
            r.error(node, label + " '" + header + "' is not a header name");
            return null;
        }
        return header;
    }

    private static String callbackPath(NodeReader r, Node node, String what, String label) {
        String path = r.string(node, label);
        if (path == null) {
            return null;
        }
        RequestTarget.Verdict v = path.startsWith("/") ? RequestTarget.parse(path) : null;
        if (v == null || !v.accepted() || v.target().query() != null) {
            String why = v == null ? "it does not start with '/'"
                    : v.accepted() ? "it holds '?': the browser's query is appended" : v.rejection();
            r.error(node, label + " '" + path + "' must be a canonical absolute path (" + why + "): write e.g. "
                    + CallbackAction.DEFAULT_PATH);
            return null;
        }
        return path;
    }

    private static List<String> forwardHeaders(NodeReader r, Node node, String what, String label) {
        List<Node> items = r.list(node, label);
        if (items == null) {
            return null;
        }
        int errors = r.errorCount();
        List<String> names = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        for (Node item : items) {
            String raw = r.string(item, label + " entry");
            String name = raw == null ? null : headerName(r, raw, item, label, seen);
            String why = name == null ? null : CALLBACK_FORBIDDEN.get(name.toLowerCase(Locale.ROOT));
            if (why != null) {
                r.error(item, "header '" + name + "' cannot be forwarded by a callback: it " + why
                        + "; list end-to-end request headers such as Referer or Accept-Language");
            } else if (name != null) {
                names.add(name);
            }
        }
        return r.errorCount() == errors ? names : null;
    }

    private static RespondAction respond(NodeReader r, Node node, String what, String label) {
        Values v = RESPOND.read(r, node, label);
        if (v == null) {
            return null;
        }
        Integer status = v.get(RESPOND_STATUS);
        String body = v.get(RESPOND_BODY);
        if (body != null && !body.isEmpty() && status != null && (status == 204 || status == 304)) {
            v.error(RESPOND_BODY, label + ": a " + status + " response carries no body; remove 'body' or use status"
                    + " 200");
        }
        Map<String, String> headers = v.get(RESPOND_HEADERS);
        return v.ok() ? new RespondAction(status, body, headers) : null;
    }

    private static Map<String, String> responseHeaders(NodeReader r, Node node, String what, String label) {
        NodeReader.Fields f = r.fields(node, label, null);
        if (f == null) {
            return null;
        }
        int errors = r.errorCount();
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, Node> seen = new HashMap<>();
        for (Map.Entry<String, NodeTuple> e : f.entries.entrySet()) {
            Node keyNode = e.getValue().getKeyNode();
            Node valueNode = e.getValue().getValueNode();
            String name = headerName(r, e.getKey(), keyNode, label, seen);
            if (name != null && RESPOND_FORBIDDEN.contains(name.toLowerCase(Locale.ROOT))) {
                r.error(keyNode, "header '" + name + "' in " + what + " is set by the gateway, which frames the"
                        + " response itself: remove it");
                name = null;
            }
            String value = r.text(valueNode, what + " header " + e.getKey());
            if (value != null && !value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))) {
                r.error(valueNode, what + " header " + e.getKey() + " must be one line of printable ASCII");
            } else if (name != null && value != null) {
                headers.put(name, value);
            }
        }
        return r.errorCount() == errors ? headers : null;
    }
}
