package nangogateway.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE}, shared by every command; without it the default embedded in the jar is used. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Route file (YAML). Default: the development config embedded in the jar.")
    Path file;

    ConfigSource source() {
        return file == null ? ConfigSource.embedded() : ConfigSource.file(file);
    }
}
