package nangogateway.config;

import java.util.Map;
import java.util.Objects;

/** Answer locally: {@code respond: {status: 204}}, optionally with a small text body and headers. */
public record RespondAction(int status, String body, Map<String, String> headers) implements RouteAction {
    public RespondAction {
        Objects.requireNonNull(body, "body");
        headers = Map.copyOf(headers);
    }

    @Override
    public String kind() {
        return "respond";
    }
}
