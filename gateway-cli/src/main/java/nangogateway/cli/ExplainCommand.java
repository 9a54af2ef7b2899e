package nangogateway.cli;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import nangogateway.config.ConfigException;
import nangogateway.config.GatewayConfig;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ProxyAction;
import nangogateway.proxy.BaseUrlOverridePolicy;
import nangogateway.server.AdminPath;
import nangogateway.server.HttpsRedirectHandler;
import nangogateway.target.RequestTarget;
import nangogateway.routing.RouteDecision;
import nangogateway.routing.RouteTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code explain}: how the gateway reads a request target and which route takes it. It runs the server's own
 * target canonicalisation and route matcher, so what it prints is what a live request gets.
 */
@Command(name = "explain",
        description = "Show how a request target is canonicalised and which route takes it.",
        footer = {"", "Exit status: 0 when the target is accepted (whatever route or status answers it), "
                + "2 when the gateway refuses the target itself with 400."})
final class ExplainCommand implements Callable<Integer> {
    static final int TARGET_REJECTED = 2;

    @Mixin
    private ConfigOption config;

    @Option(names = "--listener", paramLabel = "NAME", description = "Listener to ask (default: the first).")
    private String listenerName;

    @Option(names = {"-H", "--header"}, paramLabel = "'Name: value'",
            description = "A request header; repeat for more. Given twice, the header is sent twice.")
    private List<String> headerLines = new ArrayList<>();

    @Parameters(index = "0", paramLabel = "METHOD", description = "Request method, e.g. GET (case-sensitive).")
    private String method;

    @Parameters(index = "1", paramLabel = "TARGET",
            description = "Request target as sent, e.g. '/oauth/connect/github?x=1'.")
    private String target;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        HttpHeaders headers = parseHeaders();
        GatewayConfig loaded;
        try {
            loaded = config.source().load();
        } catch (ConfigException e) {
            ConfigSource.printErrors(e, spec.commandLine().getErr());
            return 1;
        }
        ListenerConfig listener = chooseListener(loaded);
        out.println(RouteText.listenerHeader(listener));
        out.println("request  " + method + " " + target);
        int code = explain(out, loaded, listener, headers);
        out.flush();
        return code;
    }

    private int explain(PrintWriter out, GatewayConfig loaded, ListenerConfig listener, HttpHeaders headers) {
        RequestTarget.Verdict verdict = RequestTarget.parse(target);
        if (!verdict.accepted()) {
            out.println("target   rejected: " + verdict.rejection());
            out.println("-> 400 Bad Request: " + verdict.rejection() + " (refused before any route is tried)");
            return TARGET_REJECTED;
        }
        RequestTarget read = verdict.target();
        out.println("path     " + read.path());
        out.println("query    " + (read.query() == null ? "(none)" : read.query()));
        if (listener.options().admin()) {
            out.println(adminVerdict(method, read.path()));
            return 0;
        }
        if (listener.options().redirectToHttps()) {
            // The redirect handler answers instead of the router on such listeners.
            out.println(read.path().startsWith(HttpsRedirectHandler.ACME_PREFIX)
                    ? "-> ACME challenge, served from " + listener.options().acmeWebroot() + " (404 when absent)"
                    : "-> 301 to https (308 for methods other than GET and HEAD); routes are not consulted");
            return 0;
        }
        List<String> trace = new ArrayList<>();
        RouteDecision decision = new RouteTable(listener).decide(method, read, headers, trace);
        out.println("routes   (tried in file order)");
        for (String line : trace) {
            out.println("  " + line);
        }
        out.println(verdict(decision));
        if (decision instanceof RouteDecision.Matched m && m.route().action() instanceof ProxyAction p) {
            for (String line : headerPolicy(loaded, m, p, read, headers)) {
                out.println("   " + line);
            }
        }
        return 0;
    }

    /** What the proxy would do with provider keys and Base-Url-Override: the same policy code the server runs. */
    static List<String> headerPolicy(GatewayConfig config, RouteDecision.Matched m, ProxyAction p, RequestTarget read,
            HttpHeaders headers) {
        List<String> lines = new ArrayList<>();
        if (p.providerKeyParam() != null) {
            String value = m.params().get(p.providerKeyParam());
            config.providerByKeyOrAlias(value).filter(pc -> !pc.key().equals(value)).ifPresent(pc ->
                    lines.add("provider key {" + p.providerKeyParam() + "} '" + value + "' is an alias: rewritten to '"
                            + pc.key() + "'"));
        }
        if (p.baseUrlOverride() == ProxyAction.BaseUrlOverrideMode.ENFORCE) {
            BaseUrlOverridePolicy.Decision d = BaseUrlOverridePolicy.decide(config, headers,
                    BaseUrlOverridePolicy.pathAfterPrefix(m.route(), read.path()));
            if (d instanceof BaseUrlOverridePolicy.Decision.Deny deny) {
                lines.add("Base-Url-Override: refused with " + deny.status() + " " + deny.code() + ": " + deny.reason());
            } else {
                BaseUrlOverridePolicy.Decision.Forward f = (BaseUrlOverridePolicy.Decision.Forward) d;
                lines.add("Provider-Config-Key: " + f.providerKey());
                lines.add("Base-Url-Override: " + (f.override() == null ? "none" : f.override() + " (" + f.how() + ")"));
            }
        } else if (headers.contains(BaseUrlOverridePolicy.HEADER)) {
            lines.add("Base-Url-Override: stripped (the route does not say base_url_override: enforce)");
        }
        return lines;
    }

    /** What the admin listener answers: its own paths, as its handler serves them; it has no routes. */
    static String adminVerdict(String method, String path) {
        if (!AdminPath.METHODS.contains(method)) {
            return "-> 405 Allow: " + AdminPath.ALLOW;
        }
        AdminPath p = AdminPath.of(path);
        return p == null ? "-> 404 (" + RouteText.adminOtherwise() + ")" : "-> " + RouteText.adminAnswer(p);
    }

    static String verdict(RouteDecision decision) {
        if (decision instanceof RouteDecision.Matched m) {
            return "-> route " + m.route().name() + " (" + RouteText.actionSummary(m.route().action()) + ")";
        }
        if (decision instanceof RouteDecision.MethodNotAllowed na) {
            return "-> 405 Allow: " + String.join(", ", na.allow());
        }
        return "-> otherwise " + ((RouteDecision.Otherwise) decision).status();
    }

    private ListenerConfig chooseListener(GatewayConfig loaded) {
        if (loaded.listeners().isEmpty()) {
            throw new ParameterException(spec.commandLine(), config.source().name() + " defines no listener");
        }
        if (listenerName == null) {
            return loaded.listeners().get(0);
        }
        return loaded.listener(listenerName).orElseThrow(() -> new ParameterException(spec.commandLine(),
                "no listener '" + listenerName + "' in " + config.source().name() + "; listeners: "
                        + String.join(", ", loaded.listeners().stream().map(ListenerConfig::name).toList())));
    }

    /** {@code Name: value} pairs, in order, each added (never set) so a repeated header stays repeated. */
    private HttpHeaders parseHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders();
        for (String line : headerLines) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new ParameterException(spec.commandLine(),
                        "--header '" + line + "': write it as 'Name: value'");
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim(); // optional whitespace around a field value
            try {
                headers.add(name, value);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(),
                        "--header '" + line + "': " + e.getMessage());
            }
        }
        return headers;
    }
}
