package nangogateway.upstream;

import io.netty.util.AttributeKey;

final class PooledAttrs {
    private PooledAttrs() {
    }

    /** When the connection went idle (System.nanoTime), or null while leased. */
    static final AttributeKey<Long> IDLE_SINCE = AttributeKey.valueOf("nangogateway.idleSince");
}
