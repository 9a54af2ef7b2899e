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
    /** A section or list read by its own method below: the key gives its name and whether it is required. */
    private static final Key.Reader<Node> SECTION = (r, node, what, label) -> node;
    private static final Key.Reader<List<Node>> ITEMS = (r, node, what, label) -> r.list(node, label);

    private static final Key<Node> UPSTREAMS =
            Key.required("upstreams", "upstreams: {nango: {url: http://127.0.0.1:3003}}", SECTION);
    private static final Key<Node> LISTENERS =
            Key.required("listeners", "listeners: [{name: public, bind: 0.0.0.0:443, routes: [...]}]", SECTION);
    private static final Key<Node> PROVIDERS = Key.of("providers", null, SECTION);
    private static final Key<Node> SERVER = Key.of("server", null, SECTION);
    private static final Block TOP = new Block(UPSTREAMS, LISTENERS, PROVIDERS, SERVER);

    private static final Key<Duration> SHUTDOWN_TIMEOUT =
            Key.duration("shutdown_timeout", ServerSettings.DEFAULTS.shutdownTimeout());
    private static final Key<Duration> CERTIFICATE_CHECK_INTERVAL =
            Key.duration("certificate_check_interval", ServerSettings.DEFAULTS.certificateCheckInterval());
    private static final Key<Long> BUFFER_MEMORY =
            Key.size("buffer_memory", ServerSettings.DEFAULT_BUFFER_MEMORY, 0, 1L << 40);
    private static final Key<Long> REQUEST_BUFFER_MEMORY =
            Key.size("request_buffer_memory", ServerSettings.DEFAULT_REQUEST_BUFFER_MEMORY, 0, 1L << 40);
    private static final Key<Long> RESPONSE_BUFFER_MEMORY =
            Key.size("response_buffer_memory", ServerSettings.DEFAULT_RESPONSE_BUFFER_MEMORY, 0, 1L << 40);
    private static final Key<Long> BUFFER_DISK =
            Key.size("buffer_disk", ServerSettings.DEFAULT_BUFFER_DISK, 0, 1L << 50);
    private static final Key<String> TEMP_DIR = Key.text("temp_dir", "");
    private static final Block SERVER_SETTINGS = new Block(SHUTDOWN_TIMEOUT, CERTIFICATE_CHECK_INTERVAL,
            BUFFER_MEMORY, REQUEST_BUFFER_MEMORY, RESPONSE_BUFFER_MEMORY, BUFFER_DISK, TEMP_DIR);

    private static final Key<Addresses.Origin> URL =
            Key.required("url", "url: http://127.0.0.1:3003", ConfigLoader::upstreamUrl);
    private static final Key<Duration> CONNECT_TIMEOUT =
            Key.duration("connect_timeout", UpstreamConfig.DEFAULT_CONNECT_TIMEOUT);
    private static final Key<Duration> RESPONSE_TIMEOUT =
            Key.duration("response_timeout", UpstreamConfig.DEFAULT_RESPONSE_TIMEOUT);
    private static final Key<Duration> IDLE_TIMEOUT = Key.duration("idle_timeout", UpstreamConfig.DEFAULT_IDLE_TIMEOUT);
    private static final Key<Integer> MAX_CONNECTIONS =
            Key.integer("max_connections", UpstreamConfig.DEFAULT_MAX_CONNECTIONS, 1, 1_000_000);
    private static final Key<Long> MAX_REQUEST_HEAD =
            Key.size("max_request_head", UpstreamConfig.DEFAULT_MAX_REQUEST_HEAD, 1024, 1L << 20);
    private static final Block UPSTREAM =
            new Block(URL, CONNECT_TIMEOUT, RESPONSE_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_REQUEST_HEAD);

    private static final Key<Node> BASE_URL_OVERRIDE = Key.of("base_url_override", null, SECTION);
    private static final Key<List<Node>> ALIASES = Key.of("aliases", List.of(), ITEMS);
    private static final Block PROVIDER = new Block(BASE_URL_OVERRIDE, ALIASES);

    private static final Key<List<Node>> ALLOW = Key.of("allow", List.of(), ITEMS);
    private static final Key<List<Node>> SET = Key.of("set", List.of(), ITEMS);
    private static final Block OVERRIDE = new Block(ALLOW, SET);

    private static final Key<String> RULE_PREFIX =
            Key.required("prefix", "prefix: /2/files/download", ConfigLoader::rulePrefix);
    private static final Key<OverrideOrigin> RULE_TO =
            Key.required("to", "to: https://content.dropboxapi.com", ConfigLoader::origin);
    private static final Block RULE = new Block(RULE_PREFIX, RULE_TO);

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
        Block.Values top = TOP.read(r, root, "the top level");
        if (top == null) {
            throw new ConfigException(r.errors());
        }
        top.about("the file");
        Node upstreamsNode = top.get(UPSTREAMS);
        Map<String, UpstreamConfig> upstreams = upstreams(upstreamsNode);
        Set<String> declaredUpstreams = declaredNames(upstreamsNode);
        ServerSettings server = server(top.get(SERVER));
        Map<String, ProviderConfig> providers = providers(top.get(PROVIDERS));
        List<ListenerConfig> listeners = new ListenerParser(r, declaredUpstreams).listeners(top.get(LISTENERS));
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
        Block.Values v = UPSTREAM.read(r, node, "upstream '" + name + "'");
        if (v == null || !v.readAll().ok()) {
            return null;
        }
        Addresses.Origin origin = v.get(URL);
        return new UpstreamConfig(name, origin.scheme(), origin.host(), origin.port(), v.get(CONNECT_TIMEOUT),
                v.get(RESPONSE_TIMEOUT), v.get(IDLE_TIMEOUT), v.get(MAX_CONNECTIONS),
                Math.toIntExact(v.get(MAX_REQUEST_HEAD)));
    }

    private static Addresses.Origin upstreamUrl(NodeReader r, Node node, String what, String label) {
        String url = r.string(node, label);
        if (url == null) {
            return null;
        }
        try {
            return Addresses.parseOrigin(url, "http://127.0.0.1:3003");
        } catch (IllegalArgumentException ex) {
            r.error(node, "bad url '" + url + "' for " + what + ": " + ex.getMessage());
            return null;
        }
    }

    private ServerSettings server(Node node) {
        Block.Values v = node == null ? null : SERVER_SETTINGS.read(r, node, "server");
        return v == null || !v.readAll().ok() ? ServerSettings.DEFAULTS
                : new ServerSettings(v.get(SHUTDOWN_TIMEOUT), v.get(CERTIFICATE_CHECK_INTERVAL), v.get(BUFFER_MEMORY),
                        v.get(REQUEST_BUFFER_MEMORY), v.get(RESPONSE_BUFFER_MEMORY), v.get(BUFFER_DISK),
                        v.get(TEMP_DIR));
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

    /**
     * A provider's override policy and aliases; null after any error. Its well-formed aliases are kept for the
     * check across providers either way, so a clash is reported even beside another mistake.
     */
    private ProviderConfig provider(String key, Node node) {
        String what = "provider '" + key + "'";
        int errors = r.errorCount();
        Block.Values v = PROVIDER.read(r, node, what);
        if (v == null) {
            return null;
        }
        List<OverrideOrigin> allow = new ArrayList<>();
        List<OverrideRule> set = new ArrayList<>();
        Node override = v.get(BASE_URL_OVERRIDE);
        if (override != null) {
            override(what + " base_url_override", override, allow, set);
        }
        List<String> aliases = new ArrayList<>();
        List<Node> aliasItems = v.get(ALIASES);
        for (Node a : aliasItems == null ? List.<Node>of() : aliasItems) {
            String alias = r.string(a, what + " alias");
            if (alias != null && !PROVIDER_KEY.matcher(alias).matches()) {
                r.error(a, "alias '" + alias + "' must be a catalog id of letters, digits, '.', '_', '~' or"
                        + " '-', e.g. gmail");
            } else if (alias != null) {
                aliases.add(alias);
                aliasNodes.add(Map.entry(key, a));
            }
        }
        return r.errorCount() == errors ? new ProviderConfig(key, allow, set, aliases) : null;
    }

    /** Fills {@code allow} with the well-formed origins, then {@code set} with the rules that name one of them. */
    private void override(String where, Node node, List<OverrideOrigin> allow, List<OverrideRule> set) {
        Block.Values v = OVERRIDE.read(r, node, where);
        if (v == null) {
            return;
        }
        List<Node> allowItems = v.get(ALLOW);
        for (Node item : allowItems == null ? List.<Node>of() : allowItems) {
            OverrideOrigin o = origin(r, item, where, where + " allow entry");
            if (o != null) {
                allow.add(o);
            }
        }
        List<Node> ruleItems = v.get(SET);
        for (Node item : ruleItems == null ? List.<Node>of() : ruleItems) {
            OverrideRule rule = rule(item, where, allow);
            if (rule != null) {
                set.add(rule);
            }
        }
    }

    private OverrideRule rule(Node node, String where, List<OverrideOrigin> allow) {
        Block.Values v = RULE.read(r, node, "a rule of " + where + " set");
        if (v == null) {
            return null;
        }
        String prefix = v.get(RULE_PREFIX);
        OverrideOrigin to = v.get(RULE_TO);
        if (to != null && !allow.contains(to)) {
            v.error(RULE_TO, "'" + to.text() + "' is not in the allow list of " + where
                    + ": add it to 'allow:' or set the rule to an allowed origin");
        }
        return v.ok() ? new OverrideRule(prefix, to) : null;
    }

    private static String rulePrefix(NodeReader r, Node node, String what, String label) {
        String prefix = r.string(node, label);
        if (prefix != null && !isRulePrefix(prefix)) {
            r.error(node, "rule prefix '" + prefix + "' must be a canonical path after /proxy, starting with '/',"
                    + " e.g. /2/files/download");
            return null;
        }
        return prefix;
    }

    private static boolean isRulePrefix(String prefix) {
        if (!prefix.startsWith("/") || prefix.contains("{") || prefix.contains("}")) {
            return false;
        }
        RequestTarget.Verdict v = RequestTarget.parse(prefix);
        return v.accepted() && v.target().query() == null;
    }

    private static OverrideOrigin origin(NodeReader r, Node node, String what, String label) {
        String text = r.string(node, label);
        if (text == null) {
            return null;
        }
        try {
            return OverrideOrigins.parse(text);
        } catch (IllegalArgumentException e) {
            r.error(node, "bad origin '" + text + "' in " + label + ": " + e.getMessage());
            return null;
        }
    }
}
