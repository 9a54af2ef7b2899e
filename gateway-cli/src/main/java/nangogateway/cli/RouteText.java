package nangogateway.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import nangogateway.config.CallbackAction;
import nangogateway.config.HeaderCondition;
import nangogateway.config.ListenerConfig;
import nangogateway.config.ProxyAction;
import nangogateway.config.RespondAction;
import nangogateway.config.RouteAction;
import nangogateway.config.RouteConfig;
import nangogateway.server.AdminPath;

/** How routes and listeners read in {@code routes} and {@code explain}: in the words of the route file. */
final class RouteText {
    private RouteText() {
    }

    static String listenerHeader(ListenerConfig l) {
        return "listener " + l.name() + " on " + l.bindText() + " (" + l.scheme() + ")";
    }

    /** What an admin listener answers instead of routes: one line per path, then everything else. */
    static List<String> adminAnswers() {
        List<String> lines = new ArrayList<>();
        for (AdminPath p : AdminPath.values()) {
            lines.add(adminAnswer(p));
        }
        lines.add(adminOtherwise());
        return lines;
    }

    static String adminAnswer(AdminPath p) {
        return "admin " + p.path() + ": " + p.answer();
    }

    static String adminOtherwise() {
        return "any other path 404; methods other than " + String.join(" and ", AdminPath.METHODS) + " 405";
    }

    /** Methods in a stable order, or {@code *} when the route takes every method. */
    static String methods(RouteConfig r) {
        return r.methods().isEmpty() ? "*" : String.join(",", new TreeSet<>(r.methods()));
    }

    static String conditions(RouteConfig r) {
        List<String> parts = new ArrayList<>();
        for (HeaderCondition h : r.headers()) {
            parts.add(h.name() + " ~ " + h.regex().pattern());
        }
        if (r.websocket()) {
            parts.add("websocket");
        }
        return String.join("; ", parts);
    }

    static String action(RouteAction action) {
        if (action instanceof ProxyAction p) {
            String details = "max body " + size(p.maxRequestBody())
                    + ", base_url_override " + p.baseUrlOverride().name().toLowerCase(java.util.Locale.ROOT)
                    + (p.providerKeyParam() == null ? "" : ", provider key {" + p.providerKeyParam() + "}");
            return "proxy -> " + p.upstream() + " (" + details + ")";
        }
        if (action instanceof CallbackAction c) {
            String extra = c.forwardHeaders().isEmpty() ? ""
                    : ", also forwards " + String.join(", ", c.forwardHeaders());
            return "callback -> " + c.upstream() + " " + c.path() + " (max response body " + size(c.maxResponseBody())
                    + extra + ")";
        }
        if (action instanceof RespondAction r) {
            return "respond " + r.status();
        }
        return action.kind();
    }

    /** The short form used in an explanation's verdict; local answers read as in the table. */
    static String actionSummary(RouteAction action) {
        if (action instanceof ProxyAction p) {
            return "proxy to " + p.upstream();
        }
        if (action instanceof CallbackAction c) {
            return "callback to " + c.upstream() + " " + c.path();
        }
        return action(action);
    }

    /** A byte count as the route file writes it: {@code 75MiB}, {@code 16KiB}, {@code 512}. */
    static String size(long bytes) {
        if (bytes >= 1024L * 1024 && bytes % (1024L * 1024) == 0) {
            return bytes / (1024L * 1024) + "MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return bytes / 1024 + "KiB";
        }
        return Long.toString(bytes);
    }
}
