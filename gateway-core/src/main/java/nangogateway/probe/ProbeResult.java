package nangogateway.probe;

/** A case, what came back for it, and the verdict on that. */
public record ProbeResult(ProbeCase probe, Exchange exchange, Verdict verdict) {
    public boolean refused() {
        return verdict.refused();
    }

    public boolean unreachable() {
        return exchange instanceof Exchange.Unreachable;
    }
}
