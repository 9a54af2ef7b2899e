package nangogateway.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestIdHandlerTest {

    private static String roundTrip(String... sent) {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestIdHandler());
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        for (String s : sent) {
            r.headers().add("X-Request-Id", s);
        }
        ch.writeInbound(r);
        FullHttpRequest in = ch.readInbound();
        String forwarded = in.headers().get("X-Request-Id");
        assertEquals(1, in.headers().getAll("X-Request-Id").size());
        in.release();
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        HttpResponse out = ch.readOutbound();
        assertEquals(forwarded, out.headers().get("X-Request-Id"), "the client gets the id Nango got");
        ch.finishAndReleaseAll();
        return forwarded;
    }

    @Test
    void keepsAWellFormedClientId() {
        assertEquals("req-42.a:b_c", roundTrip("req-42.a:b_c"));
    }

    @Test
    void replacesMissingRepeatedOrMalformedIds() {
        for (List<String> sent : List.of(List.<String>of(), List.of("a", "b"), List.of("has space"),
                List.of("x".repeat(129)), List.of("<script>"))) {
            String id = roundTrip(sent.toArray(new String[0]));
            assertTrue(id.matches("[0-9a-f]{32}"), sent + " -> " + id);
        }
        assertNotEquals(roundTrip(), roundTrip(), "fresh ids differ");
    }
}
