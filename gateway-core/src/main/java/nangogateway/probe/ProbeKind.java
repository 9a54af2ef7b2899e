package nangogateway.probe;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The families of requests the probe sends; the command line names them in lower case ({@code --only bypass}). */
public enum ProbeKind {
    /** Non-canonical spellings of private Nango paths that a lenient front end could normalise into an allowed one. */
    BYPASS("non-canonical spellings of private paths"),
    /** Ambiguous message framing on allowed routes: a front end and Nango that read it differently desynchronise. */
    SMUGGLING("ambiguous framing on allowed routes"),
    /** Nango's own private routes, spelled plainly: the dashboard, its API and the secret-key API. */
    PRIVATE("private Nango routes, spelled plainly"),
    /** Nango's /proxy API with a foreign Base-Url-Override: that header sends a connection's credentials elsewhere. */
    OVERRIDE("the /proxy API with a foreign Base-Url-Override");

    private final String description;

    ProbeKind(String description) {
        this.description = description;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    public static Optional<ProbeKind> byLabel(String label) {
        return Arrays.stream(values()).filter(k -> k.label().equals(label)).findFirst();
    }

    public static String labels() {
        return String.join(", ", Arrays.stream(values()).map(ProbeKind::label).toList());
    }
}
