package nangogateway.cli;

import java.io.PrintWriter;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import nangogateway.config.Durations;
import nangogateway.probe.Exchange;
import nangogateway.probe.PortExposureCheck;
import nangogateway.probe.Printable;
import nangogateway.probe.ProbeCase;
import nangogateway.probe.ProbeCatalog;
import nangogateway.probe.ProbeKind;
import nangogateway.probe.ProbeResult;
import nangogateway.probe.ProbeRunner;
import nangogateway.probe.ProbeTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code probe}: a self-audit of a live deployment. Sends the attack battery to the operator's own listener and
 * reports every request that was not refused, then checks that Nango's port is not reachable past the gateway.
 */
@Command(name = "probe",
        description = {"Send the gateway's attack battery (bypass spellings, smuggling shapes, private Nango paths, "
                + "Base-Url-Override abuse) to a live listener and report every request that was not refused.",
                "Also checks that Nango's port does not answer on this host's non-loopback addresses, so run it on "
                        + "the Nango host. Point it at your own deployment only."},
        footer = {"", "Exit status: 0 when every request was refused and the port check found nothing, 1 when "
                + "something was let through (or could not be judged), 2 for usage errors."})
final class ProbeCommand implements Callable<Integer> {
    static final int CLEAN = 0;
    static final int FINDINGS = 1;
    private static final int SHOWN_REQUEST_CHARS = 200;

    @Parameters(index = "0", paramLabel = "URL", description = "The listener to audit, e.g. https://nango.example.com")
    private String url;

    @Option(names = "--only", paramLabel = "KIND", split = ",",
            description = "Only these kinds (repeatable): bypass, smuggling, private, override.")
    private List<String> only = new ArrayList<>();

    @Option(names = "--dry-run", description = "Print the requests and send nothing.")
    private boolean dryRun;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "5",
            description = "At most N requests per second (default: ${DEFAULT-VALUE}); one connection at a time.")
    private double rate;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "3s",
            description = "Per request: connect, handshake and answer (default: ${DEFAULT-VALUE}).")
    private String timeoutText;

    @Option(names = "--insecure", description = "Accept any TLS certificate (self-signed or internal ones). "
            + "Default: verify it against the JDK trust store and the host name.")
    private boolean insecure;

    @Option(names = "--nango-port", paramLabel = "PORT", defaultValue = "3003",
            description = "Nango's port for the exposure check (default: ${DEFAULT-VALUE}).")
    private int nangoPort;

    @Option(names = "--skip-port-check", description = "Do not check Nango's port on this host's addresses.")
    private boolean skipPortCheck;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        ProbeTarget target = parseTarget();
        Set<ProbeKind> kinds = parseKinds();
        Duration timeout = parseTimeout();
        if (!(rate > 0) || Double.isInfinite(rate)) {
            throw new ParameterException(spec.commandLine(), "--rate " + rate + ": give a positive number of requests "
                    + "per second, e.g. --rate 5");
        }
        if (nangoPort < 1 || nangoPort > 65535) {
            throw new ParameterException(spec.commandLine(), "--nango-port " + nangoPort + ": give a port, 1-65535");
        }
        List<ProbeCase> cases = ProbeCatalog.of(kinds);
        PrintWriter out = spec.commandLine().getOut();
        try {
            return dryRun ? dryRun(out, target, kinds, cases) : probe(out, target, kinds, cases, timeout);
        } finally {
            out.flush();
        }
    }

    private int dryRun(PrintWriter out, ProbeTarget target, Set<ProbeKind> kinds, List<ProbeCase> cases) {
        out.println("probe " + target + ": dry run, " + cases.size() + " requests (" + labels(kinds)
                + "), nothing is sent");
        for (ProbeCase c : cases) {
            out.println("[" + c.kind().label() + "] " + c.name());
            out.println("    " + Printable.show(c.raw(target.authority()), SHOWN_REQUEST_CHARS));
        }
        if (skipPortCheck) {
            out.println("port check: skipped");
        } else {
            List<PortExposureCheck.HostAddress> addresses = addresses(out);
            if (addresses != null) {
                out.println(addresses.isEmpty() ? "port check: no non-loopback addresses on this host"
                        : "port check: would try TCP port " + nangoPort + " on " + join(addresses));
            }
        }
        return CLEAN;
    }

    private int probe(PrintWriter out, ProbeTarget target, Set<ProbeKind> kinds, List<ProbeCase> cases,
            Duration timeout) throws InterruptedException {
        out.println("probe " + target + ": " + cases.size() + " requests (" + labels(kinds) + "), at most "
                + formatRate() + " per second, " + timeoutText + " timeout each");
        out.flush();
        ProbeRunner runner = new ProbeRunner(target, new ProbeRunner.Settings(timeout, rate, insecure));
        List<ProbeResult> results = runner.run(cases, r -> { });
        if (results.size() < cases.size()) {
            ProbeResult first = results.get(0);
            out.println("probe: cannot reach " + target + ": " + first.verdict().seen() + "; nothing was probed");
            return FINDINGS;
        }
        calibration(out, runner.calibration(), timeout);
        for (ProbeKind kind : kinds) {
            report(out, target, kind, results.stream().filter(r -> r.probe().kind() == kind).toList());
        }
        boolean exposed = !skipPortCheck && portCheck(out, timeout);
        long findings = results.stream().filter(r -> r.verdict().finding()).count();
        long undecided = results.stream().filter(r -> !r.verdict().decided()).count();
        redirectHint(out, target, results.stream().filter(r -> r.verdict().finding()).toList());
        out.println("probe: " + findings + " of " + results.size() + " requests were let through"
                + (undecided == 0 ? "" : ", " + undecided + " without a verdict (see NO VERDICT above: probe again)"));
        return findings == 0 && undecided == 0 && !exposed ? CLEAN : FINDINGS;
    }

    /** The plain request's time, and the timeout the cases got when it was raised for a slow target. */
    private static void calibration(PrintWriter out, ProbeRunner.Calibration c, Duration asked) {
        if (c.plainTime() == null) {
            out.println("calibration: a plain " + c.plainRequest() + " was not answered; " + text(asked)
                    + " timeout each");
        } else if (c.timeout().compareTo(asked) > 0) {
            out.println("calibration: a plain " + c.plainRequest() + " took " + c.plainTime().toMillis()
                    + "ms, so each request got " + text(c.timeout()) + " instead of " + text(asked));
        } else {
            out.println("calibration: a plain " + c.plainRequest() + " took " + c.plainTime().toMillis() + "ms");
        }
    }

    private static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /**
     * One summary line per kind, then for each request not refused: the case's name, the bytes that make it
     * (the request line, or for framing and header cases the escaped request) and what the answer shows.
     */
    private static void report(PrintWriter out, ProbeTarget target, ProbeKind kind, List<ProbeResult> results) {
        List<ProbeResult> notRefused = results.stream().filter(r -> !r.refused()).toList();
        long undecided = notRefused.stream().filter(r -> !r.verdict().decided()).count();
        long resolved = results.stream().filter(r -> r.verdict().resolvedToAllowedRoute()).count();
        out.printf("%-10s %d of %d let through%s  (%s)%s%n", kind.label(), notRefused.size() - undecided,
                results.size(), undecided == 0 ? "" : ", " + undecided + " without a verdict", kind.description(),
                resolved == 0 ? "" : "; " + resolved + " resolved to the allowed route they climb to (not findings)");
        for (ProbeResult r : notRefused) {
            out.println((r.verdict().decided() ? "  FINDING " : "  NO VERDICT ") + r.probe().name());
            out.println("      " + r.probe().shown(target.authority()) + "  -> " + r.verdict().seen() + ": "
                    + r.verdict().why());
        }
    }

    /** True when Nango's port answers on an address other than loopback. */
    private boolean portCheck(PrintWriter out, Duration timeout) {
        List<PortExposureCheck.HostAddress> addresses = addresses(out);
        if (addresses == null) {
            return false;
        }
        if (addresses.isEmpty()) {
            out.println("port check: no non-loopback addresses on this host");
            return false;
        }
        // A local address answers or refuses at once; a short cap keeps filtered ones from stalling the run.
        Duration connectTimeout = timeout.compareTo(Duration.ofSeconds(1)) < 0 ? timeout : Duration.ofSeconds(1);
        PortExposureCheck.Report report = PortExposureCheck.check(addresses, nangoPort, connectTimeout);
        if (report.exposed()) {
            out.println("port check: FINDING Nango's port " + nangoPort + " answers on " + join(report.answering())
                    + ": bind it to 127.0.0.1 (publish 127.0.0.1:" + nangoPort + ":" + nangoPort
                    + "), or anyone who reaches this host bypasses the gateway");
        } else {
            out.println("port check: port " + nangoPort + " does not answer on any of " + addresses.size()
                    + " non-loopback addresses (" + join(addresses) + ")");
        }
        return report.exposed();
    }

    /** The host's addresses, or null (after saying why) when the interfaces cannot be listed. */
    private List<PortExposureCheck.HostAddress> addresses(PrintWriter out) {
        try {
            return PortExposureCheck.nonLoopbackAddresses();
        } catch (SocketException e) {
            out.println("port check: cannot list this host's network interfaces: " + e.getMessage());
            return null;
        }
    }

    /** A plain-http listener that only redirects makes every case a finding; say what to probe instead. */
    private static void redirectHint(PrintWriter out, ProbeTarget target, List<ProbeResult> findings) {
        boolean allToHttps = !target.tls() && !findings.isEmpty() && findings.stream().allMatch(r ->
                r.exchange() instanceof Exchange.Answered a && a.status() >= 300 && a.status() < 400
                        && a.location() != null && a.location().startsWith("https://"));
        if (allToHttps) {
            out.println("note: every finding is a redirect to https; probe the https URL to audit the routes behind it");
        }
    }

    private ProbeTarget parseTarget() {
        try {
            return ProbeTarget.parse(url);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private Set<ProbeKind> parseKinds() {
        if (only.isEmpty()) {
            return EnumSet.allOf(ProbeKind.class);
        }
        Set<ProbeKind> kinds = EnumSet.noneOf(ProbeKind.class);
        for (String label : only) {
            kinds.add(ProbeKind.byLabel(label.trim()).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "--only " + label + ": no such kind; kinds: " + ProbeKind.labels())));
        }
        return kinds;
    }

    private Duration parseTimeout() {
        try {
            return Durations.parse(timeoutText);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--timeout: " + e.getMessage());
        }
    }

    private String formatRate() {
        return rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate);
    }

    private static String labels(Set<ProbeKind> kinds) {
        return String.join(", ", kinds.stream().map(ProbeKind::label).toList());
    }

    private static String join(List<PortExposureCheck.HostAddress> addresses) {
        return String.join(", ", addresses.stream().map(PortExposureCheck.HostAddress::toString).toList());
    }
}
