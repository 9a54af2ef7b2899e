package nangogateway.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.util.ReferenceCountUtil;

/** What an embedded channel wrote. */
public final class Outbound {
    private Outbound() {
    }

    /** Reads the one response written, asserts nothing else was written, and hands it to the caller to release. */
    public static FullHttpResponse onlyResponse(EmbeddedChannel channel) {
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "a response was written");
        Object more = channel.readOutbound();
        ReferenceCountUtil.release(more);
        assertNull(more, "exactly one response");
        return r;
    }
}
