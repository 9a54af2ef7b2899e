package nangogateway.server;

import io.netty.util.AttributeKey;

/** Channel attributes that carry per-request facts from the handler that knows them to the access log. */
public final class Exchanges {
    private Exchanges() {
    }

    /** Why the guard refused the current request. */
    public static final AttributeKey<String> REJECT_REASON = AttributeKey.valueOf("nangogateway.rejectReason");
    /** The route that took the current request, or the deny reason. */
    public static final AttributeKey<String> ROUTE = AttributeKey.valueOf("nangogateway.route");
}
