package nangogateway.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import nangogateway.config.NodeReader.Fields;
import nangogateway.config.ProviderConfig.OverrideOrigin;
import nangogateway.config.ProviderConfig.OverrideRule;
import nangogateway.target.RequestTarget;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads the route file into a validated {@link GatewayConfig}. It works on SnakeYAML's composed node tree so
 * every problem can be reported as {@code FILE:LINE:COLUMN}, and it reports all of them at once: an operator
 * fixing a file should not have to run {@code check} once per mistake.
 */
public final class ConfigLoader {
    static final List<String> TOP_KEYS = List.of("upstreams", "listeners", "providers", "server");
    static final List<String> SERVER_KEYS = List.of("shutdown_timeout", "certificate_check_interval");
    static final List<String> UPSTREAM_KEYS =
            List.of("url", "connect_timeout", "response_timeout", "idle_timeout", "max_connections");
    static final List<String> PROVIDER_KEYS = List.of("base_url_override", "aliases");
    static final List<String> OVERRIDE_KEYS = List.of("allow", "set");
    static final List<String> RULE_KEYS = List.of("prefix", "to");

    /** Names of upstreams, listeners and routes: they appear in logs and on the command line. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    /** A provider key or alias stands in a path segment ({@code /oauth/connect/{key}}). */
    private static final Pattern PROVIDER_KEY = Pattern.compile("[A-Za-z0-9._~-]+");

    private final NodeReader r;
    /** Every well-formed alias with its provider, checked against each other once all providers are read. */
    private final List<Map.Entry<String, Node>> aliasNodes = new ArrayList<>();

    private ConfigLoader(String source) {
        this.r = new NodeReader(source);
    }

    /**
     * Reads and validates a route file.
     *
     * @throws ConfigException with every problem found; an unreadable file is one error at 1:1
     */
    public static GatewayConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw unreadable(file, "no such file: pass the path of the route file, e.g. /etc/nango-gateway/gateway.yaml");
        } catch (AccessDeniedException e) {
            throw unreadable(file, "permission denied: the gateway's user must be able to read the file");
        } catch (CharacterCodingException e) {
            throw unreadable(file, "the file is not UTF-8 text: save it as UTF-8");
        } catch (IOException e) {
            throw unreadable(file, "cannot read the file (" + e.getMessage() + "): pass the path of a readable"
                    + " route file");
        }
        return parse(text, file.toString());
    }

    private static ConfigException unreadable(Path file, String message) {
        return new ConfigException(List.of(new ConfigError(file.toString(), 1, 1, message)));
    }

    /**
     * Validates route-file text.
     *
     * @param sourceName what error locations and {@link GatewayConfig#source()} name, e.g. the path
     * @throws ConfigException with every problem found, in file order
     */
    public static GatewayConfig parse(String yamlText, String sourceName) throws ConfigException {
        return new ConfigLoader(sourceName).read(yamlText, sourceName);
    }

    private GatewayConfig read(String yamlText, String sourceName) throws ConfigException {
        Node root;
        try {
            root = new Yaml(loaderOptions()).compose(new StringReader(yamlText));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            r.error(mark, syntaxMessage(e));
            throw new ConfigException(r.errors());
        } catch (YAMLException e) {
            r.errorAt(1, 1, "the file is not valid YAML (" + e.getMessage() + ")");
            throw new ConfigException(r.errors());
        }
        if (root == null) {
            r.errorAt(1, 1, "the file is empty: it needs 'upstreams:' and 'listeners:' (see conf/gateway.yaml)");
            throw new ConfigException(r.errors());
        }
        Fields top = r.fields(root, "the top level", TOP_KEYS);
        if (top == null) {
            throw new ConfigException(r.errors());
        }
        Node upstreamsNode = r.required(top, "upstreams", "the file", "upstreams: {nango: {url: http://127.0.0.1:3003}}");
        Map<String, UpstreamConfig> upstreams = upstreams(upstreamsNode);
        Set<String> declaredUpstreams = declaredNames(upstreamsNode);
        ServerSettings server = server(top.value("server"));
        Map<String, ProviderConfig> providers = providers(top.value("providers"));
        Node listenersNode = r.required(top, "listeners", "the file",
                "listeners: [{name: public, bind: 0.0.0.0:443, routes: [...]}]");
        List<ListenerConfig> listeners = new ListenerParser(r, declaredUpstreams).listeners(listenersNode);
        if (r.hasErrors()) {
            throw new ConfigException(r.errors());
        }
        return new GatewayConfig(sourceName, upstreams, listeners, providers, server);
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(20); // a route file has no use for alias bombs
        options.setNestingDepthLimit(20);
        options.setCodePointLimit(4 * 1024 * 1024);
        return options;
    }

    private static String syntaxMessage(MarkedYAMLException e) {
        String problem = e.getProblem() == null ? e.getMessage() : e.getProblem();
        String context = e.getContext();
        String what;
        if (context == null) {
            what = problem;
        } else if (problem.startsWith("but ")) {
            what = context + ", " + problem; // "expected X, but found Y"
        } else {
            what = problem + " (" + context + ")";
        }
        String hint;
        if (problem.contains("another document")) {
            hint = "a route file is one YAML document: remove the second '---' and what follows, or merge it";
        } else if (problem.contains("\\t") || problem.contains("TAB")) {
            hint = "indent with spaces, not tabs";
        } else if (problem.contains("expected ',' or ']'") || problem.contains("expected ',' or '}'")) {
            hint = "quote values that contain '{', '}', '[' or ']', e.g. path: ['/providers/{provider}']";
        } else if (problem.contains("mapping values are not allowed")) {
            hint = "put 'key: value' pairs on their own lines and quote values that contain ': '";
        } else {
            hint = "check the indentation and quote values that contain ': ', ' #', '{' or '['";
        }
        return "YAML syntax error: " + what + "; " + hint;
    }

    /** The names a mapping declares, valid or not, so a later reference to one is not reported twice. */
    private static Set<String> declaredNames(Node node) {
        Set<String> names = new LinkedHashSet<>();
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode s) {
                    names.add(s.getValue());
                }
            }
        }
        return names;
    }

    private Map<String, UpstreamConfig> upstreams(Node node) {
        Map<String, UpstreamConfig> result = new LinkedHashMap<>();
        if (node == null) {
            return result;
        }
        Fields all = r.fields(node, "upstreams", null);
        if (all == null) {
            return result;
        }
        for (Map.Entry<String, NodeTuple> e : all.entries.entrySet()) {
            String name = e.getKey();
            if (!NAME.matcher(name).matches()) {
                r.error(e.getValue().getKeyNode(), "upstream name '" + name + "' must be letters, digits, '.', '_'"
                        + " or '-', e.g. nango");
                continue;
            }
            UpstreamConfig u = upstream(name, e.getValue().getValueNode());
            if (u != null) {
                result.put(name, u);
            }
        }
        return result;
    }

    private UpstreamConfig upstream(String name, Node node) {
        String what = "upstream '" + name + "'";
        Fields f = r.fields(node, what, UPSTREAM_KEYS);
        if (f == null) {
            return null;
        }
        Addresses.Origin origin = null;
        Node urlNode = r.required(f, "url", what, "url: http://127.0.0.1:3003");
        if (urlNode != null) {
            String url = r.string(urlNode, what + " url");
            if (url != null) {
                try {
                    origin = Addresses.parseOrigin(url, "http://127.0.0.1:3003");
                } catch (IllegalArgumentException ex) {
                    r.error(urlNode, "bad url '" + url + "' for " + what + ": " + ex.getMessage());
                }
            }
        }
        Duration connect = durationOr(f, "connect_timeout", what, UpstreamConfig.DEFAULT_CONNECT_TIMEOUT);
        Duration response = durationOr(f, "response_timeout", what, UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT);
        Duration idle = durationOr(f, "idle_timeout", what, UpstreamConfig.DEFAULT_IDLE_TIMEOUT);
        Integer max = f.has("max_connections")
                ? r.integer(f.value("max_connections"), what + " max_connections", 1, 1_000_000)
                : Integer.valueOf(UpstreamConfig.DEFAULT_MAX_CONNECTIONS);
        if (origin == null || connect == null || response == null || idle == null || max == null) {
            return null;
        }
        return new UpstreamConfig(name, origin.scheme(), origin.host(), origin.port(), connect, response, idle, max);
    }

    private Duration durationOr(Fields f, String key, String what, Duration fallback) {
        return f.has(key) ? r.duration(f.value(key), what + " " + key) : fallback;
    }

    private ServerSettings server(Node node) {
        if (node == null) {
            return ServerSettings.DEFAULTS;
        }
        Fields f = r.fields(node, "server", SERVER_KEYS);
        if (f == null) {
            return ServerSettings.DEFAULTS;
        }
        Duration shutdown = durationOr(f, "shutdown_timeout", "server", ServerSettings.DEFAULTS.shutdownTimeout());
        Duration certCheck = durationOr(f, "certificate_check_interval", "server",
                ServerSettings.DEFAULTS.certificateCheckInterval());
        return shutdown == null || certCheck == null ? ServerSettings.DEFAULTS : new ServerSettings(shutdown, certCheck);
    }

    private Map<String, ProviderConfig> providers(Node node) {
        Map<String, ProviderConfig> result = new LinkedHashMap<>();
        if (node == null) {
            return result;
        }
        Fields all = r.fields(node, "providers", null);
        if (all == null) {
            return result;
        }
        for (Map.Entry<String, NodeTuple> e : all.entries.entrySet()) {
            String key = e.getKey();
            if (!PROVIDER_KEY.matcher(key).matches()) {
                r.error(e.getValue().getKeyNode(), "provider key '" + key + "' must be a Nango provider-config key"
                        + " (letters, digits, '.', '_', '~', '-'), e.g. google-mail");
                continue;
            }
            ProviderConfig p = provider(key, e.getValue().getValueNode());
            if (p == null) {
                continue;
            }
            result.put(key, p);
        }
        // Aliases are checked once every key is known: an alias may not shadow any provider's key.
        Map<String, Node> claimed = new HashMap<>();
        Map<String, String> claimedBy = new HashMap<>();
        for (Map.Entry<String, Node> a : aliasNodes) {
            String owner = a.getKey();
            Node at = a.getValue();
            String alias = ((ScalarNode) at).getValue();
            if (all.has(alias)) {
                r.error(at, "alias '" + alias + "' of provider '" + owner + "' is itself a provider key:"
                        + " remove it from aliases (a key always names its own provider)");
            } else if (claimed.containsKey(alias)) {
                r.error(at, "alias '" + alias + "' is already claimed by provider '" + claimedBy.get(alias)
                        + "' (line " + NodeReader.line(claimed.get(alias)) + "): an alias maps to one key");
            } else {
                claimed.put(alias, at);
                claimedBy.put(alias, owner);
            }
        }
        return result;
    }

    private ProviderConfig provider(String key, Node node) {
        String what = "provider '" + key + "'";
        Fields f = r.fields(node, what, PROVIDER_KEYS);
        if (f == null) {
            return null;
        }
        List<OverrideOrigin> allow = new ArrayList<>();
        List<OverrideRule> set = new ArrayList<>();
        boolean ok = true;
        if (f.has("base_url_override")) {
            ok = override(what, f.value("base_url_override"), allow, set);
        }
        List<String> aliases = new ArrayList<>();
        if (f.has("aliases")) {
            List<Node> items = r.list(f.value("aliases"), what + " aliases");
            if (items == null) {
                ok = false;
            } else {
                for (Node a : items) {
                    String alias = r.string(a, what + " alias");
                    if (alias != null && !PROVIDER_KEY.matcher(alias).matches()) {
                        r.error(a, "alias '" + alias + "' must be a catalog id of letters, digits, '.', '_', '~' or"
                                + " '-', e.g. gmail");
                        alias = null;
                    }
                    if (alias == null) {
                        ok = false;
                    } else {
                        aliases.add(alias);
                        aliasNodes.add(Map.entry(key, a));
                    }
                }
            }
        }
        return ok ? new ProviderConfig(key, allow, set, aliases) : null;
    }

    private boolean override(String what, Node node, List<OverrideOrigin> allow, List<OverrideRule> set) {
        String where = what + " base_url_override";
        Fields f = r.fields(node, where, OVERRIDE_KEYS);
        if (f == null) {
            return false;
        }
        boolean ok = true;
        if (f.has("allow")) {
            List<Node> items = r.list(f.value("allow"), where + " allow");
            ok = items != null;
            for (Node item : items == null ? List.<Node>of() : items) {
                OverrideOrigin o = origin(item, where + " allow entry");
                if (o == null) {
                    ok = false;
                } else {
                    allow.add(o);
                }
            }
        }
        if (f.has("set")) {
            List<Node> items = r.list(f.value("set"), where + " set");
            ok &= items != null;
            for (Node item : items == null ? List.<Node>of() : items) {
                OverrideRule rule = rule(item, where, allow);
                if (rule == null) {
                    ok = false;
                } else {
                    set.add(rule);
                }
            }
        }
        return ok;
    }

    private OverrideRule rule(Node node, String where, List<OverrideOrigin> allow) {
        String what = "a rule of " + where + " set";
        Fields f = r.fields(node, what, RULE_KEYS);
        if (f == null) {
            return null;
        }
        String prefix = null;
        Node prefixNode = r.required(f, "prefix", what, "prefix: /2/files/download");
        if (prefixNode != null) {
            prefix = r.string(prefixNode, what + " prefix");
            if (prefix != null && !isRulePrefix(prefix)) {
                r.error(prefixNode, "rule prefix '" + prefix + "' must be a canonical path after /proxy, starting"
                        + " with '/', e.g. /2/files/download");
                prefix = null;
            }
        }
        OverrideOrigin to = null;
        Node toNode = r.required(f, "to", what, "to: https://content.dropboxapi.com");
        if (toNode != null) {
            to = origin(toNode, what + " to");
            if (to != null && !allow.contains(to)) {
                r.error(toNode, "'" + to.text() + "' is not in the allow list of " + where
                        + ": add it to 'allow:' or set the rule to an allowed origin");
                to = null;
            }
        }
        return prefix == null || to == null ? null : new OverrideRule(prefix, to);
    }

    private static boolean isRulePrefix(String prefix) {
        if (!prefix.startsWith("/") || prefix.contains("{") || prefix.contains("}")) {
            return false;
        }
        RequestTarget.Verdict v = RequestTarget.parse(prefix);
        return v.accepted() && v.target().query() == null;
    }

    private OverrideOrigin origin(Node node, String what) {
        String text = r.string(node, what);
        if (text == null) {
            return null;
        }
        try {
            return OverrideOrigins.parse(text);
        } catch (IllegalArgumentException e) {
            r.error(node, "bad origin '" + text + "' in " + what + ": " + e.getMessage());
            return null;
        }
    }
}
