package nangogateway.config;

import java.util.Objects;

/**
 * Stream the request to an upstream and the response back.
 *
 * @param maxRequestBody    request body cap in bytes (413 beyond), counted as it streams
 * @param baseUrlOverride   {@code ENFORCE} applies the {@code providers:} policy, {@code STRIP} removes the header
 * @param providerKeyParam  name of a path parameter holding a provider key to map through aliases, or null
 * @param verify            webhook signature check on the raw body before anything reaches the upstream, or null
 * @param requestBuffering  read the whole body before leasing an upstream connection (false: stream it as it comes)
 * @param responseBuffering read the response ahead of a slow client into the gateway's buffers (memory, then a
 *                          temporary file), so the upstream connection is free when the upstream is done (false:
 *                          read it only as fast as the client takes it)
 */
public record ProxyAction(String upstream, long maxRequestBody, BaseUrlOverrideMode baseUrlOverride,
        String providerKeyParam, WebhookVerify verify, boolean requestBuffering, boolean responseBuffering)
        implements RouteAction {

    public static final long DEFAULT_MAX_REQUEST_BODY = 1024 * 1024;

    public ProxyAction {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(baseUrlOverride, "baseUrlOverride");
    }

    /** A proxy action that buffers request bodies and responses. */
    public ProxyAction(String upstream, long maxRequestBody, BaseUrlOverrideMode baseUrlOverride,
            String providerKeyParam, WebhookVerify verify) {
        this(upstream, maxRequestBody, baseUrlOverride, providerKeyParam, verify, true, true);
    }

    /** A proxy action without a webhook signature check. */
    public ProxyAction(String upstream, long maxRequestBody, BaseUrlOverrideMode baseUrlOverride,
            String providerKeyParam) {
        this(upstream, maxRequestBody, baseUrlOverride, providerKeyParam, null);
    }

    @Override
    public String kind() {
        return "proxy";
    }

    public enum BaseUrlOverrideMode { STRIP, ENFORCE }
}
