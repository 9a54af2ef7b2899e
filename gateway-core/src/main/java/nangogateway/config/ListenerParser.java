package nangogateway.config;

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
import nangogateway.config.NodeReader.Fields;
import nangogateway.target.PathPattern;
import nangogateway.target.RequestTarget;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/** Reads the {@code listeners:} list: binds, TLS, limits, and each listener's routes with their actions. */
final class ListenerParser {
    static final List<String> LISTENER_KEYS = List.of("name", "bind", "tls", "routes", "otherwise", "limits", "hsts",
            "redirect_to_https", "acme_webroot", "trusted_proxies", "rate_limit", "max_connections",
            "max_connections_per_client", "access_log", "admin", "admin_public");
    static final List<String> RATE_LIMIT_KEYS = List.of("rate", "burst");
    static final List<String> ACCESS_LOG_KEYS = List.of("format", "redact");
    static final List<String> VERIFY_KEYS = List.of("provider", "secret_file", "header", "algorithm", "encoding",
            "prefix", "tolerance");
    static final List<String> TLS_KEYS = List.of("cert", "key");
    static final List<String> OTHERWISE_KEYS = List.of("status");
    static final List<String> LIMITS_KEYS = List.of("max_request_line", "max_header_block", "max_headers",
            "header_timeout", "keepalive_timeout", "body_timeout");
    static final List<String> ROUTE_KEYS =
            List.of("name", "path", "prefix", "methods", "headers", "websocket", "rate_limit", "proxy", "callback",
                    "respond", "metrics");
    static final List<String> ACTION_KEYS = List.of("proxy", "callback", "respond", "metrics");
    static final List<String> PROXY_KEYS =
            List.of("upstream", "max_request_body", "base_url_override", "provider_key_param", "verify");
    static final List<String> CALLBACK_KEYS = List.of("upstream", "path", "max_response_body", "forward_headers");
    static final List<String> RESPOND_KEYS = List.of("status", "body", "headers");

    /** RFC 9110 token; '_' is left out because the request guard refuses header names holding it. */
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^`|~0-9A-Za-z-]+");
    private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z0-9_-]*");
    private static final long MAX_BODY = 1L << 40;
    private static final Set<String> GET_ONLY = Set.of("GET");

    /** Headers a callback must not copy: the gateway frames and addresses the replay itself. */
    private static final Map<String, String> CALLBACK_FORBIDDEN = forbiddenCallbackHeaders();
    /** Headers a respond route must not set: the gateway frames its responses itself. */
    private static final Set<String> RESPOND_FORBIDDEN = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection");

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
            Fields f = r.fields(item, "a listener", LISTENER_KEYS);
            if (f == null) {
                continue;
            }
            String name = name(f, "listener", "name: public");
            boolean unique = true;
            if (name != null) {
                Node first = names.putIfAbsent(name, f.value("name"));
                if (first != null) {
                    r.error(f.value("name"), "listener name '" + name + "' is already used at line "
                            + NodeReader.line(first) + ": give each listener its own name");
                    unique = false;
                }
            }
            ListenerConfig l = listener(f, name, ports);
            if (l != null && unique) {
                result.add(l);
            }
        }
        return result;
    }

    /** A required, well-formed name, or null (reported). */
    private String name(Fields f, String thing, String example) {
        Node n = r.required(f, "name", "a " + thing, example);
        String name = n == null ? null : r.string(n, thing + " name");
        if (name != null && !ConfigLoader.NAME.matcher(name).matches()) {
            r.error(n, thing + " name '" + name + "' must start with a letter or digit and hold only letters, digits,"
                    + " '.', '_' or '-', e.g. " + example.substring(example.indexOf(' ') + 1));
            return null;
        }
        return name;
    }

    /** @param ports the bind value of each port bound so far, to refuse a second listener on one */
    private ListenerConfig listener(Fields f, String name, Map<Integer, Node> ports) {
        String what = "listener '" + (name == null ? "?" : name) + "'";
        Addresses.Bind bind = null;
        Node bindNode = r.required(f, "bind", what, "bind: 0.0.0.0:443");
        String bindText = bindNode == null ? null : r.string(bindNode, what + " bind");
        if (bindText != null) {
            try {
                bind = Addresses.parseBind(bindText);
            } catch (IllegalArgumentException e) {
                r.error(bindNode, "bad bind address '" + bindText + "' for " + what + ": " + e.getMessage());
            }
        }
        // One port, one listener, whatever the hosts: 0.0.0.0:443 and 127.0.0.1:443 cannot both bind, and two
        // specific addresses on one port are rarely meant. Port 0 picks a free port each time.
        if (bind != null && bind.port() != 0) {
            Node first = ports.putIfAbsent(bind.port(), bindNode);
            if (first != null) {
                r.error(bindNode, what + " binds port " + bind.port() + ", already bound at line "
                        + NodeReader.line(first) + ": give each listener its own port");
                bind = null;
            }
        }
        boolean ok = true;
        TlsConfig tls = null;
        if (f.has("tls")) {
            tls = tls(f.value("tls"), what);
            ok = tls != null;
        }
        List<RouteConfig> routes = f.has("routes") ? routes(f.value("routes"), what) : List.of();
        Integer otherwise = 403;
        if (f.has("otherwise")) {
            Fields o = r.fields(f.value("otherwise"), what + " otherwise", OTHERWISE_KEYS);
            if (o == null) {
                otherwise = null;
            } else if (o.has("status")) {
                otherwise = r.integer(o.value("status"), what + " otherwise status", 400, 599);
            }
        }
        ListenerLimits limits = f.has("limits") ? limits(f.value("limits"), what) : ListenerLimits.DEFAULTS;
        ListenerOptions options = options(f, what, tls != null, routes);
        if (!ok || name == null || bind == null || routes == null || otherwise == null || limits == null
                || options == null) {
            return null;
        }
        return new ListenerConfig(name, bind.host(), bind.port(), tls, routes, otherwise, limits, options);
    }

    /** HSTS, the HTTPS redirect, trusted proxies, limits and the access-log format; null when any is wrong. */
    private ListenerOptions options(Fields f, String what, boolean tls, List<RouteConfig> routes) {
        ListenerOptions d = ListenerOptions.DEFAULTS;
        boolean ok = true;
        String hsts = null;
        if (f.has("hsts")) {
            hsts = r.string(f.value("hsts"), what + " hsts");
            ok &= hsts != null;
            if (hsts != null && !tls) {
                r.error(f.value("hsts"), what + " hsts: Strict-Transport-Security is only meaningful over TLS; add"
                        + " tls: {cert, key} or remove hsts");
                ok = false;
            } else if (hsts != null && !hsts.matches("max-age=\\d+(\\s*;\\s*(includeSubDomains|preload))*")) {
                r.error(f.value("hsts"), what + " hsts '" + hsts + "' is not a Strict-Transport-Security value:"
                        + " write e.g. 'max-age=63072000; includeSubDomains'");
                ok = false;
            }
        }
        Boolean redirect = f.has("redirect_to_https")
                ? r.bool(f.value("redirect_to_https"), what + " redirect_to_https") : Boolean.FALSE;
        ok &= redirect != null;
        if (Boolean.TRUE.equals(redirect) && routes != null && !routes.isEmpty()) {
            r.error(f.value("redirect_to_https"), what + " redirects everything to https, so its routes would never"
                    + " be used: remove 'routes' or redirect_to_https");
            ok = false;
        }
        if (Boolean.TRUE.equals(redirect) && tls) {
            r.error(f.value("redirect_to_https"), what + " already speaks TLS: redirect_to_https belongs on the"
                    + " plain-HTTP listener (port 80)");
            ok = false;
        }
        Path webroot = null;
        if (f.has("acme_webroot")) {
            webroot = path(f.value("acme_webroot"), what + " acme_webroot");
            ok &= webroot != null;
            if (webroot != null && !Boolean.TRUE.equals(redirect)) {
                r.error(f.value("acme_webroot"), what + " acme_webroot is served by the redirect listener: add"
                        + " redirect_to_https: true");
                ok = false;
            }
        }
        List<Cidr> trusted = new ArrayList<>();
        if (f.has("trusted_proxies")) {
            List<Node> items = r.list(f.value("trusted_proxies"), what + " trusted_proxies");
            if (items == null) {
                ok = false;
            } else {
                for (Node item : items) {
                    String t = r.string(item, what + " trusted_proxies entry");
                    if (t == null) {
                        ok = false;
                        continue;
                    }
                    try {
                        trusted.add(Cidr.parse(t));
                    } catch (IllegalArgumentException e) {
                        r.error(item, what + " trusted_proxies: " + e.getMessage());
                        ok = false;
                    }
                }
            }
        }
        RateLimit rate = null;
        if (f.has("rate_limit")) {
            rate = rateLimit(f.value("rate_limit"), what);
            ok &= rate != null;
        }
        Integer maxConn = f.has("max_connections")
                ? r.integer(f.value("max_connections"), what + " max_connections", 0, 10_000_000) : Integer.valueOf(0);
        Integer maxPerClient = f.has("max_connections_per_client")
                ? r.integer(f.value("max_connections_per_client"), what + " max_connections_per_client", 0, 10_000_000)
                : Integer.valueOf(0);
        ok &= maxConn != null && maxPerClient != null;
        AccessLogFormat format = d.accessLogFormat();
        Set<String> redact = new LinkedHashSet<>();
        if (f.has("access_log")) {
            Fields a = r.fields(f.value("access_log"), what + " access_log", ACCESS_LOG_KEYS);
            if (a == null) {
                ok = false;
            } else {
                if (a.has("format")) {
                    String fmt = r.string(a.value("format"), what + " access_log format");
                    if (fmt == null || !(fmt.equals("combined") || fmt.equals("json"))) {
                        if (fmt != null) {
                            r.error(a.value("format"), what + " access_log format must be combined (nginx's) or json,"
                                    + " not '" + fmt + "'");
                        }
                        ok = false;
                    } else {
                        format = fmt.equals("json") ? AccessLogFormat.JSON : AccessLogFormat.COMBINED;
                    }
                }
                if (a.has("redact")) {
                    List<Node> names = r.list(a.value("redact"), what + " access_log redact");
                    if (names == null) {
                        ok = false;
                    } else {
                        for (Node n : names) {
                            String name = r.string(n, what + " access_log redact entry");
                            if (name == null) {
                                ok = false;
                            } else {
                                redact.add(name.toLowerCase(Locale.ROOT));
                            }
                        }
                    }
                }
            }
        }
        Boolean admin = f.has("admin") ? r.bool(f.value("admin"), what + " admin") : Boolean.FALSE;
        Boolean adminPublic = f.has("admin_public") ? r.bool(f.value("admin_public"), what + " admin_public")
                : Boolean.FALSE;
        ok &= admin != null && adminPublic != null;
        if (Boolean.TRUE.equals(admin)) {
            if (routes != null && !routes.isEmpty() || Boolean.TRUE.equals(redirect)) {
                r.error(f.value("admin"), what + " is an admin listener: it serves /healthz, /readyz and /metrics"
                        + " only, so it takes no routes and no redirect_to_https");
                ok = false;
            }
            Node bindNode = f.value("bind");
            String bindText = bindNode == null ? null : r.text(bindNode, what + " bind");
            boolean loopback = bindText != null && (bindText.startsWith("127.") || bindText.startsWith("[::1]")
                    || bindText.startsWith("localhost:"));
            if (!loopback && !Boolean.TRUE.equals(adminPublic)) {
                r.error(f.value("admin"), what + " is an admin listener on a non-loopback address: bind it to"
                        + " 127.0.0.1 (metrics and readiness are for your own infrastructure), or add"
                        + " admin_public: true if a firewall guards it");
                ok = false;
            }
        } else if (Boolean.TRUE.equals(adminPublic)) {
            r.error(f.value("admin_public"), what + " admin_public applies to an admin listener: add admin: true");
            ok = false;
        }
        if (!ok) {
            return null;
        }
        return new ListenerOptions(hsts, redirect, webroot, trusted, rate, maxConn, maxPerClient, format, redact,
                admin);
    }

    /** {@code rate_limit: {rate: 10, burst: 20}}: requests per second per client address, and the burst. */
    private RateLimit rateLimit(Node node, String what) {
        String where = what + " rate_limit";
        Fields f = r.fields(node, where, RATE_LIMIT_KEYS);
        if (f == null) {
            return null;
        }
        Node rateNode = r.required(f, "rate", where, "rate: 10");
        String rateText = rateNode == null ? null : r.string(rateNode, where + " rate");
        Double rate = null;
        if (rateText != null) {
            try {
                rate = Double.parseDouble(rateText);
            } catch (NumberFormatException e) {
                rate = null;
            }
            if (rate == null || !(rate > 0) || rate > 1_000_000 || rate.isNaN()) {
                r.error(rateNode, where + " rate must be requests per second, a number above 0 such as 10 or 0.5,"
                        + " not '" + rateText + "'");
                rate = null;
            }
        }
        Integer burst = f.has("burst") ? r.integer(f.value("burst"), where + " burst", 1, 1_000_000)
                : (rate == null ? null : Integer.valueOf((int) Math.max(1, Math.ceil(rate))));
        if (rate == null || burst == null) {
            return null;
        }
        return new RateLimit(rate, burst);
    }

    private TlsConfig tls(Node node, String what) {
        Fields f = r.fields(node, what + " tls", TLS_KEYS);
        if (f == null) {
            return null;
        }
        Path cert = path(r.required(f, "cert", what + " tls", "cert: /etc/nango-gateway/tls/fullchain.pem"),
                what + " tls cert");
        Path key = path(r.required(f, "key", what + " tls", "key: /etc/nango-gateway/tls/privkey.pem"),
                what + " tls key");
        return cert == null || key == null ? null : new TlsConfig(cert, key);
    }

    private Path path(Node node, String what) {
        String text = node == null ? null : r.string(node, what);
        if (text == null) {
            return null;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            r.error(node, what + " '" + text + "' is not a file path: " + e.getReason());
            return null;
        }
    }

    private ListenerLimits limits(Node node, String what) {
        String where = what + " limits";
        Fields f = r.fields(node, where, LIMITS_KEYS);
        if (f == null) {
            return null;
        }
        ListenerLimits d = ListenerLimits.DEFAULTS;
        Long requestLine = sizeOr(f, "max_request_line", where, d.maxRequestLine());
        Long headerBlock = sizeOr(f, "max_header_block", where, d.maxHeaderBlock());
        Integer maxHeaders = f.has("max_headers")
                ? r.integer(f.value("max_headers"), where + " max_headers", 1, 10_000) : Integer.valueOf(d.maxHeaders());
        Duration header = durationOr(f, "header_timeout", where, d.headerTimeout());
        Duration keepalive = durationOr(f, "keepalive_timeout", where, d.keepaliveTimeout());
        Duration body = durationOr(f, "body_timeout", where, d.bodyTimeout());
        if (requestLine == null || headerBlock == null || maxHeaders == null || header == null || keepalive == null
                || body == null) {
            return null;
        }
        return new ListenerLimits(requestLine.intValue(), headerBlock.intValue(), maxHeaders, header, keepalive, body);
    }

    private Long sizeOr(Fields f, String key, String where, long fallback) {
        // Bounded well below Integer.MAX_VALUE: the decoder's limits are ints.
        return f.has(key) ? r.size(f.value(key), where + " " + key, 1, 64L << 20) : Long.valueOf(fallback);
    }

    private Duration durationOr(Fields f, String key, String where, Duration fallback) {
        return f.has(key) ? r.duration(f.value(key), where + " " + key) : fallback;
    }

    private List<RouteConfig> routes(Node node, String what) {
        List<Node> items = r.list(node, what + " routes");
        if (items == null) {
            return null;
        }
        List<RouteConfig> routes = new ArrayList<>();
        Map<String, Node> names = new HashMap<>();
        boolean ok = true;
        for (Node item : items) {
            RouteConfig route = route(item, what, names);
            if (route == null) {
                ok = false;
            } else {
                routes.add(route);
            }
        }
        return ok ? routes : null;
    }

    private RouteConfig route(Node node, String listener, Map<String, Node> names) {
        Fields f = r.fields(node, "a route", ROUTE_KEYS);
        if (f == null) {
            return null;
        }
        String name = name(f, "route", "name: oauth-connect");
        boolean ok = name != null;
        if (name != null) {
            Node first = names.putIfAbsent(name, f.value("name"));
            if (first != null) {
                r.error(f.value("name"), "route name '" + name + "' is already used at line " + NodeReader.line(first)
                        + " in " + listener + ": give each route of a listener its own name");
                ok = false;
            }
        }
        String what = "route '" + (name == null ? "?" : name) + "'";

        List<PathPattern> paths = List.of();
        String prefix = null;
        if (f.has("path") && f.has("prefix")) {
            r.error(f.keyNode("prefix"), what + " has both 'path' and 'prefix': keep one ('path' for patterns such as"
                    + " /oauth/connect/{key}, 'prefix' for a subtree such as /proxy/)");
            ok = false;
        } else if (f.has("path")) {
            paths = paths(f.value("path"), what);
            ok &= paths != null;
        } else if (f.has("prefix")) {
            prefix = prefix(f.value("prefix"), what);
            ok &= prefix != null;
        } else {
            r.error(f.node, what + " needs 'path' (a pattern such as /oauth/connect/{key}, or a list of them) or"
                    + " 'prefix' (a subtree such as /proxy/)");
            ok = false;
        }

        Set<String> methods = f.has("methods") ? methods(f.value("methods"), what) : Set.of();
        ok &= methods != null;
        List<HeaderCondition> headers = f.has("headers") ? headers(f.value("headers"), what) : List.of();
        ok &= headers != null;
        Boolean websocket = f.has("websocket") ? r.bool(f.value("websocket"), what + " websocket") : Boolean.FALSE;
        ok &= websocket != null;

        List<String> actions = ACTION_KEYS.stream().filter(f::has).toList();
        RouteAction action = null;
        if (actions.isEmpty()) {
            r.error(f.node, what + " needs exactly one action: proxy: {upstream: nango}, callback: {upstream: nango},"
                    + " respond: {status: 204} or metrics: {}");
        } else if (actions.size() > 1) {
            r.error(f.keyNode(actions.get(1)), what + " has both '" + actions.get(0) + "' and '" + actions.get(1)
                    + "': a route has exactly one action (proxy, callback, respond or metrics)");
        } else {
            Node body = f.value(actions.get(0));
            action = switch (actions.get(0)) {
                case "proxy" -> proxy(body, what, paths, prefix);
                case "callback" -> callback(body, what);
                case "metrics" -> metrics(body, what);
                default -> respond(body, what);
            };
        }
        ok &= action != null;

        // A callback replays GET only, and a WebSocket handshake is a GET: other methods can never be meant.
        if (action instanceof CallbackAction && methods != null) {
            methods = getOnly(f, methods, what + " is a callback: it replays GET only (other methods get 405 with"
                    + " Allow: GET); write methods: [GET] or leave methods out");
            ok &= methods != null;
        }
        if (Boolean.TRUE.equals(websocket)) {
            if (action != null && !(action instanceof ProxyAction)) {
                r.error(f.value("websocket"), what + ": websocket: true needs a proxy action, the tunnel goes to an"
                        + " upstream");
                ok = false;
            }
            if (methods != null && !(action instanceof CallbackAction)) {
                methods = getOnly(f, methods, what + " is a websocket route: a WebSocket handshake is a GET; write"
                        + " methods: [GET] or leave methods out");
                ok &= methods != null;
            }
        }
        RateLimit rate = null;
        if (f.has("rate_limit")) {
            rate = rateLimit(f.value("rate_limit"), what);
            ok &= rate != null;
        }
        if (!ok) {
            return null;
        }
        return new RouteConfig(name, paths, prefix, methods, headers, websocket, action, NodeReader.line(node), rate);
    }

    /** {@code metrics: {}}: the Prometheus endpoint; it takes no settings. */
    private MetricsAction metrics(Node node, String what) {
        if (node instanceof org.yaml.snakeyaml.nodes.MappingNode m && !m.getValue().isEmpty()) {
            r.error(m.getValue().get(0).getKeyNode(), what + " metrics takes no settings: write metrics: {}");
            return null;
        }
        Fields f = r.fields(node, what + " metrics", List.of());
        return f == null ? null : new MetricsAction();
    }

    /** {@code [GET]} when methods were left out; null (reported) when they list anything else. */
    private Set<String> getOnly(Fields f, Set<String> methods, String message) {
        if (!f.has("methods")) {
            return GET_ONLY;
        }
        if (!methods.equals(GET_ONLY)) {
            r.error(f.value("methods"), message);
            return null;
        }
        return methods;
    }

    private List<PathPattern> paths(Node node, String what) {
        List<Node> items;
        if (node instanceof SequenceNode seq) {
            items = seq.getValue();
            if (items.isEmpty()) {
                r.error(node, what + " path list is empty: write at least one pattern, e.g. path: /oauth/callback");
                return null;
            }
        } else {
            items = List.of(node);
        }
        List<PathPattern> patterns = new ArrayList<>();
        boolean ok = true;
        for (Node item : items) {
            String text = r.string(item, what + " path");
            if (text == null) {
                ok = false;
                continue;
            }
            try {
                patterns.add(PathPattern.compile(text));
            } catch (IllegalArgumentException e) {
                r.error(item, "bad path pattern '" + text + "' in " + what + ": " + e.getMessage());
                ok = false;
            }
        }
        return ok ? patterns : null;
    }

    private String prefix(Node node, String what) {
        String prefix = r.string(node, what + " prefix");
        if (prefix == null) {
            return null;
        }
        if (!prefix.startsWith("/") || !prefix.endsWith("/")) {
            String trimmed = prefix.replaceAll("^/+|/+$", "");
            r.error(node, what + " prefix '" + prefix + "' must start and end with '/' so it covers whole segments:"
                    + " write " + (trimmed.isEmpty() ? "/" : "/" + trimmed + "/"));
            return null;
        }
        if (prefix.contains("{") || prefix.contains("}")) {
            r.error(node, what + " prefix '" + prefix + "' is matched literally: use 'path:' for {name} parameters");
            return null;
        }
        RequestTarget.Verdict v = RequestTarget.parse(prefix);
        if (!v.accepted() || v.target().query() != null) {
            r.error(node, what + " prefix '" + prefix + "' can never match an accepted request ("
                    + (v.accepted() ? "it holds '?'" : v.rejection()) + "): write a canonical path such as /proxy/");
            return null;
        }
        return prefix;
    }

    private Set<String> methods(Node node, String what) {
        List<Node> items = r.list(node, what + " methods");
        if (items == null) {
            return null;
        }
        if (items.isEmpty()) {
            r.error(node, what + " methods is empty, so nothing would match: list methods, e.g. [GET], or leave"
                    + " methods out to allow every method");
            return null;
        }
        Set<String> methods = new LinkedHashSet<>();
        boolean ok = true;
        for (Node item : items) {
            String m = r.string(item, what + " method");
            if (m == null) {
                ok = false;
            } else if (!METHOD.matcher(m).matches()) {
                String upper = m.toUpperCase(Locale.ROOT);
                r.error(item, "method '" + m + "' in " + what + " must be an upper-case HTTP method: write "
                        + (METHOD.matcher(upper).matches() ? upper : "e.g. GET"));
                ok = false;
            } else if (!methods.add(m)) {
                r.error(item, "method " + m + " is listed twice in " + what + ": list it once");
                ok = false;
            }
        }
        return ok ? methods : null;
    }

    private List<HeaderCondition> headers(Node node, String what) {
        Fields f = r.fields(node, what + " headers", null);
        if (f == null) {
            return null;
        }
        List<HeaderCondition> conditions = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        boolean ok = true;
        for (Map.Entry<String, NodeTuple> e : f.entries.entrySet()) {
            Node keyNode = e.getValue().getKeyNode();
            Node valueNode = e.getValue().getValueNode();
            String name = headerName(e.getKey(), keyNode, what, seen);
            String regex = r.string(valueNode, what + " header " + e.getKey());
            if (name == null || regex == null) {
                ok = false;
                continue;
            }
            try {
                conditions.add(new HeaderCondition(name, Pattern.compile(regex)));
            } catch (PatternSyntaxException ex) {
                r.error(valueNode, "invalid regex for header '" + name + "' in " + what + ": " + ex.getDescription()
                        + (ex.getIndex() >= 0 ? " at index " + ex.getIndex() : "") + " of '" + regex
                        + "'; write a Java regular expression for the whole value, e.g. '^Bearer [A-Za-z0-9_]+$'");
                ok = false;
            }
        }
        return ok ? conditions : null;
    }

    /** A valid header name, not given before in any letter case; null (reported) otherwise. */
    private String headerName(String name, Node at, String what, Map<String, Node> seen) {
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

    private String upstream(Fields f, String where) {
        Node n = r.required(f, "upstream", where, "upstream: nango");
        String name = n == null ? null : r.string(n, where + " upstream");
        if (name != null && !upstreams.contains(name)) {
            String guess = NodeReader.didYouMean(name, upstreams);
            r.error(n, "unknown upstream '" + name + "' in " + where + (guess == null ? "" : "; did you mean '" + guess
                    + "'?") + " defined upstreams: " + (upstreams.isEmpty() ? "none" : String.join(", ", upstreams)));
            return null;
        }
        return name;
    }

    private ProxyAction proxy(Node node, String what, List<PathPattern> paths, String prefix) {
        String where = what + " proxy";
        Fields f = r.fields(node, where, PROXY_KEYS);
        if (f == null) {
            return null;
        }
        String upstream = upstream(f, where);
        Long maxBody = f.has("max_request_body")
                ? r.size(f.value("max_request_body"), where + " max_request_body", 0, MAX_BODY)
                : Long.valueOf(ProxyAction.DEFAULT_MAX_REQUEST_BODY);
        ProxyAction.BaseUrlOverrideMode mode = ProxyAction.BaseUrlOverrideMode.STRIP;
        if (f.has("base_url_override")) {
            String m = r.string(f.value("base_url_override"), where + " base_url_override");
            if (m == null || !(m.equals("enforce") || m.equals("strip"))) {
                if (m != null) {
                    r.error(f.value("base_url_override"), where + " base_url_override must be enforce (apply"
                            + " providers:) or strip (remove the header), not '" + m + "'");
                }
                mode = null;
            } else {
                mode = m.equals("enforce") ? ProxyAction.BaseUrlOverrideMode.ENFORCE
                        : ProxyAction.BaseUrlOverrideMode.STRIP;
            }
        }
        String keyParam = null;
        boolean keyParamOk = true;
        if (f.has("provider_key_param")) {
            Node n = f.value("provider_key_param");
            keyParam = r.string(n, where + " provider_key_param");
            keyParamOk = keyParam != null && providerKeyParam(n, keyParam, where, paths, prefix);
        }
        WebhookVerify verify = null;
        boolean verifyOk = true;
        if (f.has("verify")) {
            verify = verify(f.value("verify"), where);
            verifyOk = verify != null;
        }
        if (upstream == null || maxBody == null || mode == null || !keyParamOk || !verifyOk) {
            return null;
        }
        return new ProxyAction(upstream, maxBody, mode, keyParam, verify);
    }

    /**
     * {@code verify: {provider: slack|github|hmac, secret_file: ...}}. The secret is read here, so a reload
     * re-reads it; it never appears in the YAML.
     */
    private WebhookVerify verify(Node node, String what) {
        String where = what + " verify";
        Fields f = r.fields(node, where, VERIFY_KEYS);
        if (f == null) {
            return null;
        }
        Node providerNode = r.required(f, "provider", where, "provider: slack");
        String provider = providerNode == null ? null : r.string(providerNode, where + " provider");
        if (provider != null && !List.of("slack", "github", "hmac").contains(provider)) {
            r.error(providerNode, where + " provider must be slack, github or hmac (any header/algorithm), not '"
                    + provider + "'");
            provider = null;
        }
        Node fileNode = r.required(f, "secret_file", where, "secret_file: /run/credentials/nango-gateway.service/slack");
        Path file = fileNode == null ? null : path(fileNode, where + " secret_file");
        byte[] secret = null;
        if (file != null) {
            try {
                String text = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
                text = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                        : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
                if (text.isEmpty()) {
                    r.error(fileNode, where + " secret_file " + file + " is empty: put the signing secret in it");
                } else {
                    secret = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
            } catch (java.io.IOException | RuntimeException e) {
                r.error(fileNode, where + " secret_file " + file + " cannot be read (" + e.getClass().getSimpleName()
                        + "): check the path and that the gateway's user may read it");
            }
        }
        Duration tolerance = f.has("tolerance") ? r.duration(f.value("tolerance"), where + " tolerance")
                : Duration.ofMinutes(5);
        if (provider == null || secret == null || tolerance == null) {
            return null;
        }
        if (!provider.equals("hmac")) {
            for (String k : List.of("header", "algorithm", "encoding", "prefix")) {
                if (f.has(k)) {
                    r.error(f.keyNode(k), where + " '" + k + "' is fixed for provider " + provider
                            + ": remove it, or use provider: hmac");
                    return null;
                }
            }
            return provider.equals("slack") ? WebhookVerify.slack(secret, file.toString(), tolerance)
                    : WebhookVerify.github(secret, file.toString());
        }
        Node headerNode = r.required(f, "header", where, "header: X-Signature");
        String header = headerNode == null ? null : r.string(headerNode, where + " header");
        if (header != null && !HEADER_NAME.matcher(header).matches()) {
            r.error(headerNode, where + " header '" + header + "' is not a header name");
            header = null;
        }
        String algorithm = "HmacSHA256";
        if (f.has("algorithm")) {
            String a = r.string(f.value("algorithm"), where + " algorithm");
            algorithm = "sha256".equals(a) ? "HmacSHA256" : "sha512".equals(a) ? "HmacSHA512" : null;
            if (algorithm == null && a != null) {
                r.error(f.value("algorithm"), where + " algorithm must be sha256 or sha512, not '" + a + "'");
            }
        }
        WebhookVerify.Encoding encoding = WebhookVerify.Encoding.HEX;
        if (f.has("encoding")) {
            String e = r.string(f.value("encoding"), where + " encoding");
            encoding = "hex".equals(e) ? WebhookVerify.Encoding.HEX
                    : "base64".equals(e) ? WebhookVerify.Encoding.BASE64 : null;
            if (encoding == null && e != null) {
                r.error(f.value("encoding"), where + " encoding must be hex or base64, not '" + e + "'");
            }
        }
        String prefix = f.has("prefix") ? r.text(f.value("prefix"), where + " prefix") : "";
        if (header == null || algorithm == null || encoding == null || prefix == null) {
            return null;
        }
        return new WebhookVerify(WebhookVerify.Kind.HMAC, secret, file.toString(), header, algorithm, encoding,
                prefix, tolerance);
    }

    private boolean providerKeyParam(Node at, String param, String where, List<PathPattern> paths, String prefix) {
        if (prefix != null) {
            r.error(at, where + " provider_key_param needs path patterns with {" + param + "}; a prefix route has no"
                    + " parameters");
            return false;
        }
        if (paths == null) {
            return true; // the path itself was already reported
        }
        for (PathPattern p : paths) {
            if (!p.paramNames().contains(param)) {
                r.error(at, where + " provider_key_param '" + param + "' is not a parameter of path '" + p.text()
                        + "': name a {parameter} that every path of the route has"
                        + (p.paramNames().isEmpty() ? "" : " (here: " + String.join(", ", p.paramNames()) + ")"));
                return false;
            }
        }
        return true;
    }

    private CallbackAction callback(Node node, String what) {
        String where = what + " callback";
        Fields f = r.fields(node, where, CALLBACK_KEYS);
        if (f == null) {
            return null;
        }
        String upstream = upstream(f, where);
        String path = CallbackAction.DEFAULT_PATH;
        if (f.has("path")) {
            Node n = f.value("path");
            path = r.string(n, where + " path");
            if (path != null) {
                RequestTarget.Verdict v = path.startsWith("/") ? RequestTarget.parse(path) : null;
                if (v == null || !v.accepted() || v.target().query() != null) {
                    String why = v == null ? "it does not start with '/'"
                            : v.accepted() ? "it holds '?': the browser's query is appended" : v.rejection();
                    r.error(n, where + " path '" + path + "' must be a canonical absolute path (" + why
                            + "): write e.g. " + CallbackAction.DEFAULT_PATH);
                    path = null;
                }
            }
        }
        Long maxBody = f.has("max_response_body")
                ? r.size(f.value("max_response_body"), where + " max_response_body", 1, 1L << 30)
                : Long.valueOf(CallbackAction.DEFAULT_MAX_RESPONSE_BODY);
        List<String> forward = f.has("forward_headers") ? forwardHeaders(f.value("forward_headers"), where) : List.of();
        if (upstream == null || path == null || maxBody == null || forward == null) {
            return null;
        }
        return new CallbackAction(upstream, path, maxBody, forward);
    }

    private List<String> forwardHeaders(Node node, String where) {
        List<Node> items = r.list(node, where + " forward_headers");
        if (items == null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        boolean ok = true;
        for (Node item : items) {
            String raw = r.string(item, where + " forward_headers entry");
            String name = raw == null ? null : headerName(raw, item, where + " forward_headers", seen);
            String why = name == null ? null : CALLBACK_FORBIDDEN.get(name.toLowerCase(Locale.ROOT));
            if (why != null) {
                r.error(item, "header '" + name + "' cannot be forwarded by a callback: it " + why
                        + "; list end-to-end request headers such as Referer or Accept-Language");
                name = null;
            }
            if (name == null) {
                ok = false;
            } else {
                names.add(name);
            }
        }
        return ok ? names : null;
    }

    private RespondAction respond(Node node, String what) {
        String where = what + " respond";
        Fields f = r.fields(node, where, RESPOND_KEYS);
        if (f == null) {
            return null;
        }
        Node statusNode = r.required(f, "status", where, "status: 204");
        Integer status = statusNode == null ? null : r.integer(statusNode, where + " status", 200, 599);
        String body = f.has("body") ? r.text(f.value("body"), where + " body") : "";
        if (body != null && !body.isEmpty() && status != null && (status == 204 || status == 304)) {
            r.error(f.value("body"), where + ": a " + status + " response carries no body; remove 'body' or use"
                    + " status 200");
            body = null;
        }
        Map<String, String> headers = f.has("headers") ? responseHeaders(f.value("headers"), where) : Map.of();
        if (status == null || body == null || headers == null) {
            return null;
        }
        return new RespondAction(status, body, headers);
    }

    private Map<String, String> responseHeaders(Node node, String where) {
        Fields f = r.fields(node, where + " headers", null);
        if (f == null) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, Node> seen = new HashMap<>();
        boolean ok = true;
        for (Map.Entry<String, NodeTuple> e : f.entries.entrySet()) {
            Node keyNode = e.getValue().getKeyNode();
            Node valueNode = e.getValue().getValueNode();
            String name = headerName(e.getKey(), keyNode, where + " headers", seen);
            if (name != null && RESPOND_FORBIDDEN.contains(name.toLowerCase(Locale.ROOT))) {
                r.error(keyNode, "header '" + name + "' in " + where + " is set by the gateway, which frames the"
                        + " response itself: remove it");
                name = null;
            }
            String value = r.text(valueNode, where + " header " + e.getKey());
            if (value != null && !value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))) {
                r.error(valueNode, where + " header " + e.getKey() + " must be one line of printable ASCII");
                value = null;
            }
            if (name == null || value == null) {
                ok = false;
            } else {
                headers.put(name, value);
            }
        }
        return ok ? headers : null;
    }
}
