package nangogateway.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import nangogateway.config.ConfigError;
import nangogateway.config.ConfigException;
import nangogateway.config.ConfigLoader;
import nangogateway.config.GatewayConfig;

/**
 * Where the route file comes from: a file named by {@code --config}, or the development default packaged in
 * the jar. {@link #load()} can be called again for a reload and reads the source afresh.
 */
final class ConfigSource {
    static final String EMBEDDED_RESOURCE = "nangogateway/conf/dev.yaml";
    static final String EMBEDDED_NAME = "embedded:dev.yaml";

    /** Null for the embedded default. */
    private final Path file;

    private ConfigSource(Path file) {
        this.file = file;
    }

    static ConfigSource file(Path file) {
        return new ConfigSource(file);
    }

    static ConfigSource embedded() {
        return new ConfigSource(null);
    }

    /** The name errors and messages use: the path as given, or {@code embedded:dev.yaml}. */
    String name() {
        return file == null ? EMBEDDED_NAME : file.toString();
    }

    GatewayConfig load() throws ConfigException {
        if (file == null) {
            return ConfigLoader.parse(readEmbedded(), EMBEDDED_NAME);
        }
        // Checked here so a typo in the path reads as one plain sentence, located like every other error.
        if (!Files.isRegularFile(file)) {
            throw single(Files.exists(file) ? "not a regular file" : "no such file");
        }
        if (!Files.isReadable(file)) {
            throw single("cannot read the file: permission denied");
        }
        return ConfigLoader.load(file);
    }

    private String readEmbedded() throws ConfigException {
        try (InputStream in = ConfigSource.class.getClassLoader().getResourceAsStream(EMBEDDED_RESOURCE)) {
            if (in == null) {
                throw single("this build has no embedded default configuration; pass --config FILE");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw single("cannot read the embedded default configuration: " + e.getMessage());
        }
    }

    private ConfigException single(String message) {
        return new ConfigException(List.of(new ConfigError(name(), 1, 1, message)));
    }

    /** Every error, one per line, as {@code FILE:LINE:COLUMN: message}. */
    static void printErrors(ConfigException e, PrintWriter err) {
        for (ConfigError error : e.errors()) {
            err.println(error);
        }
        err.flush();
    }
}
