package nangogateway.config;

import java.util.List;
import java.util.stream.Collectors;

/** The route file did not load; {@link #errors()} holds every problem found, in file order. */
public final class ConfigException extends Exception {
    private final List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
