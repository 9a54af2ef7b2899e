package nangogateway.config;

import java.util.Objects;
import java.util.regex.Pattern;

/** A route condition: the named header is present exactly once and its whole value matches the regex. */
public record HeaderCondition(String name, Pattern regex) {
    public HeaderCondition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(regex, "regex");
    }

    public boolean matchesValue(String value) {
        return regex.matcher(value).matches();
    }
}
