package nangogateway.server;

import nangogateway.exchange.LocalResponses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import nangogateway.config.ListenerLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slow-client timers on an embedded channel: raw-watch → decoder → timeouts. Each scenario runs twice:
 * on the event loop's clock alone ({@code advanceTimeBy}), which is how a handler should be testable, and with
 * the wall clock advanced too (short limits and a real sleep), which holds whichever clock the handler reads.
 */
class SlowClientTimeoutHandlerTest {
    /** header 10 s, keep-alive 60 s, body 30 s: the defaults, without the minimum body rate (tested on its own). */
    private static final ListenerLimits FAKE = withoutMinRate(ListenerLimits.DEFAULTS);
    /** Short limits: the same rules must hold at any scale. */
    private static final ListenerLimits REAL = withoutMinRate(new ListenerLimits(8 * 1024, 16 * 1024, 100,
            Duration.ofMillis(400), Duration.ofMillis(600), Duration.ofMillis(500)));

    private static ListenerLimits withoutMinRate(ListenerLimits l) {
        return new ListenerLimits(l.maxRequestLine(), l.maxHeaderBlock(), l.maxHeaders(), l.headerTimeout(),
                l.keepaliveTimeout(), l.bodyTimeout(), 0, l.sendTimeout(), 0);
    }

    private EmbeddedChannel channel;
    private boolean shortLimits;

    private void open(boolean useShortLimits) {
        shortLimits = useShortLimits;
        ListenerLimits limits = useShortLimits ? REAL : FAKE;
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(limits);
        channel = new EmbeddedChannel(timeouts.rawWatcher(), new StrictHttpRequestDecoder(limits), timeouts);
    }

    @AfterEach
    void tearDown() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private ListenerLimits limits() {
        return shortLimits ? REAL : FAKE;
    }

    /** Lets {@code d} pass on the event loop's clock and runs due timers. */
    private void elapse(Duration d) {
        channel.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** Half of {@code d}: the deadline must not have passed yet (a wide margin for a loaded machine). */
    private static Duration justUnder(Duration d) {
        return d.dividedBy(2);
    }

    /** The rest of {@code d} after {@link #justUnder}, plus a margin. */
    private static Duration theRest(Duration d) {
        return d.dividedBy(2).plus(d.dividedBy(4));
    }

    private void write(String s) {
        channel.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }

    private void readAndReleaseAllInbound() {
        Object o;
        while ((o = channel.readInbound()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    private void sendResponse() {
        FullHttpResponse ok = LocalResponses.text(channel.alloc(), 200, false);
        channel.writeOutbound(ok);
        ReferenceCountUtil.release(channel.readOutbound());
    }

    private void assertNothingFiredYet() {
        assertTrue(channel.isOpen(), "connection still open");
        assertNull(channel.readOutbound(), "nothing written");
    }

    // --- scenarios ---

    private void scenarioIncompleteHeadGets408() {
        write("GET /oauth/connect/github HTTP/1.1\r\nHost: gw.example.com\r\n"); // never finished
        assertNull(channel.readInbound());
        elapse(justUnder(limits().headerTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().headerTimeout()));
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "408 written");
        try {
            assertEquals(408, r.status().code());
            assertEquals("close", r.headers().get(HttpHeaderNames.CONNECTION));
        } finally {
            r.release();
        }
        assertNull(channel.readOutbound());
        assertFalse(channel.isOpen());
    }

    private void scenarioSilentConnectionGets408() {
        elapse(justUnder(limits().headerTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().headerTimeout()));
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "408 written");
        try {
            assertEquals(408, r.status().code());
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen());
    }

    private void scenarioIdleKeepAliveIsClosed() {
        write("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
        assertInstanceOf(HttpRequest.class, channel.readInbound());
        readAndReleaseAllInbound();
        sendResponse();
        elapse(justUnder(limits().keepaliveTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().keepaliveTimeout()));
        assertFalse(channel.isOpen(), "idle keep-alive connection closed");
        assertNull(channel.readOutbound(), "closed without a response: no request is outstanding");
    }

    private void scenarioStalledBodyIsCut() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
        readAndReleaseAllInbound();
        elapse(justUnder(limits().bodyTimeout()));
        assertNothingFiredYet();
        write("de"); // progress restarts the body clock
        readAndReleaseAllInbound();
        elapse(justUnder(limits().bodyTimeout()));
        assertTrue(channel.isOpen(), "a trickling body is not cut while it moves");
        elapse(limits().bodyTimeout());
        assertFalse(channel.isOpen(), "stalled body cut");
        Object written = channel.readOutbound();
        ReferenceCountUtil.release(written);
    }

    private void scenarioNothingFiresWhileWaitingForTheResponse() {
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
        readAndReleaseAllInbound();
        Duration longest = limits().keepaliveTimeout().plus(limits().bodyTimeout()).plus(limits().headerTimeout());
        elapse(longest);
        elapse(longest);
        assertNothingFiredYet();
        sendResponse(); // the response is done: now the keep-alive clock runs
        elapse(justUnder(limits().keepaliveTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().keepaliveTimeout()));
        assertFalse(channel.isOpen());
    }

    private void scenarioNextRequestHeadGetsTheHeaderTimeout() {
        write("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
        readAndReleaseAllInbound();
        sendResponse();
        write("GET /second HTTP/1.1\r\n"); // first bytes of the next head
        elapse(justUnder(limits().headerTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().headerTimeout()));
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "408 written for the unfinished second head");
        try {
            assertEquals(408, r.status().code());
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen());
    }

    private void scenarioPartialPipelinedHeadGetsTheHeaderTimeout() {
        write("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
        readAndReleaseAllInbound();
        write("GET /second HTTP/1.1\r\nHo"); // slow-loris start of a pipelined head, while the gateway works
        sendResponse();
        elapse(justUnder(limits().headerTimeout()));
        assertNothingFiredYet();
        elapse(theRest(limits().headerTimeout())); // still well inside keepalive_timeout
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "408 for a head that did not complete within header_timeout");
        try {
            assertEquals(408, r.status().code());
        } finally {
            r.release();
        }
        assertFalse(channel.isOpen());
    }

    private void scenarioBodyClockStopsWhileTheGatewayIsNotReading() {
        channel.config().setAutoRead(false);
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
        readAndReleaseAllInbound();
        // Nobody asked for more (the proxy waits for Nango to drain what it has): the stall is the gateway's.
        elapse(limits().bodyTimeout().multipliedBy(2));
        assertNothingFiredYet();
        channel.read(); // now the gateway wants the rest, and the client owes it
        elapse(limits().bodyTimeout().plus(limits().bodyTimeout().dividedBy(4)));
        assertFalse(channel.isOpen(), "a client that does not send what was asked for is cut");
    }

    /** The 408 reaches the access log and metrics, which sit further in than the timeouts (issue found in review). */
    @Test
    void aHeadTimeoutIsLoggedAndCounted() {
        nangogateway.observe.GatewayMetrics metrics = new nangogateway.observe.GatewayMetrics();
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(FAKE);
        channel = new EmbeddedChannel(timeouts.rawWatcher(), new StrictHttpRequestDecoder(FAKE), timeouts,
                new nangogateway.observe.AccessLogHandler("public", nangogateway.config.AccessLogFormat.COMBINED,
                        java.util.Set.of(), metrics));
        write("GET /oauth/connect/github HTTP/1.1\r\nHost: gw.example.com\r\n"); // never finished
        elapse(FAKE.headerTimeout().plusSeconds(1));
        FullHttpResponse r = channel.readOutbound();
        assertNotNull(r, "408 written");
        try {
            assertEquals(408, r.status().code());
        } finally {
            r.release();
        }
        assertEquals(1, nangogateway.observe.MetricsText.value(metrics,
                "nango_gateway_responses_total{code=\"408\",listener=\"public\"}"));
        assertEquals(1, nangogateway.observe.MetricsText.value(metrics,
                "nango_gateway_denied_requests_total{listener=\"public\",reason=\"timeout\"}"));
    }

    @Test
    void partialPipelinedHeadGetsTheHeaderTimeout() {
        open(true);
        scenarioPartialPipelinedHeadGetsTheHeaderTimeout();
    }

    @Test
    void bodyClockStopsWhileTheGatewayIsNotReading() {
        open(true);
        scenarioBodyClockStopsWhileTheGatewayIsNotReading();
    }

    // --- default limits ---

    @Test
    void incompleteHeadGets408OnTheEventLoopClock() {
        open(false);
        scenarioIncompleteHeadGets408();
    }

    @Test
    void silentConnectionGets408OnTheEventLoopClock() {
        open(false);
        scenarioSilentConnectionGets408();
    }

    /**
     * A client that trickles a byte every 10 s never stalls for body_timeout, but averages far below the minimum
     * rate: once the grace (body_timeout) and the few milliseconds its bytes earned are spent, it is cut.
     */
    @Test
    void aTricklingBodyIsCutOnceItFallsBelowTheMinimumRate() {
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(ListenerLimits.DEFAULTS);
        channel = new EmbeddedChannel(timeouts.rawWatcher(), new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS),
                timeouts);
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nabc");
        readAndReleaseAllInbound();
        for (int i = 0; i < 2; i++) {
            elapse(Duration.ofSeconds(10));
            write("x");
            readAndReleaseAllInbound();
        }
        assertTrue(channel.isOpen(), "20 s in: within the grace");
        for (int i = 0; i < 3 && channel.isOpen(); i++) {
            elapse(Duration.ofSeconds(10));
            if (channel.isOpen()) {
                write("x");
                readAndReleaseAllInbound();
            }
        }
        assertFalse(channel.isOpen(), "a byte every 10 s is cut once 30 s of grace are spent");
    }

    /** A slow but real link (1 KiB/s, twice the minimum) keeps its connection however long the body takes. */
    @Test
    void aSlowButSteadyBodyIsNotCut() {
        SlowClientTimeoutHandler timeouts = new SlowClientTimeoutHandler(ListenerLimits.DEFAULTS);
        channel = new EmbeddedChannel(timeouts.rawWatcher(), new StrictHttpRequestDecoder(ListenerLimits.DEFAULTS),
                timeouts);
        write("POST /webhook/a/b HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n");
        readAndReleaseAllInbound();
        String second = "y".repeat(1024);
        for (int i = 0; i < 120; i++) {
            elapse(Duration.ofSeconds(1));
            write(second);
            readAndReleaseAllInbound();
        }
        assertTrue(channel.isOpen(), "two minutes at 1 KiB/s");
    }

    @Test
    void idleKeepAliveIsClosedOnTheEventLoopClock() {
        open(false);
        scenarioIdleKeepAliveIsClosed();
    }

    @Test
    void stalledBodyIsCutOnTheEventLoopClock() {
        open(false);
        scenarioStalledBodyIsCut();
    }

    @Test
    void nothingFiresWhileWaitingForTheResponseOnTheEventLoopClock() {
        open(false);
        scenarioNothingFiresWhileWaitingForTheResponse();
    }

    @Test
    void nextRequestHeadGetsTheHeaderTimeoutOnTheEventLoopClock() {
        open(false);
        scenarioNextRequestHeadGetsTheHeaderTimeout();
    }

    /** While waiting for the response, nothing fires however long it takes. */
    @Test
    void nothingFiresWhileWaitingEvenOnTheEventLoopClockAlone() {
        open(false);
        write("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
        readAndReleaseAllInbound();
        elapse(Duration.ofMinutes(10));
        assertNothingFiredYet();
    }

    // --- short limits ---

    @Test
    void incompleteHeadGets408() throws Exception {
        open(true);
        scenarioIncompleteHeadGets408();
    }

    @Test
    void silentConnectionGets408() throws Exception {
        open(true);
        scenarioSilentConnectionGets408();
    }

    @Test
    void idleKeepAliveIsClosed() throws Exception {
        open(true);
        scenarioIdleKeepAliveIsClosed();
    }

    @Test
    void stalledBodyIsCut() throws Exception {
        open(true);
        scenarioStalledBodyIsCut();
    }

    @Test
    void nothingFiresWhileWaitingForTheResponse() throws Exception {
        open(true);
        scenarioNothingFiresWhileWaitingForTheResponse();
    }

    @Test
    void nextRequestHeadGetsTheHeaderTimeout() throws Exception {
        open(true);
        scenarioNextRequestHeadGetsTheHeaderTimeout();
    }
}
