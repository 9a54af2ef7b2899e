package nangogateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-listener protocol limits (the optional {@code limits:} block of a listener). Defaults are at least as
 * generous as Node's so no real Nango request is refused.
 *
 * @param maxRequestLine   longest request line, bytes (414 beyond)
 * @param maxHeaderBlock   largest header block, bytes (431 beyond)
 * @param maxHeaders       most header fields in one request (431 beyond)
 * @param headerTimeout    a request's line and headers must arrive within this (slow-loris)
 * @param keepaliveTimeout an idle client connection between requests is closed after this
 * @param bodyTimeout      a request body that sends nothing for this long is cut off
 * @param minBodyRate      bytes per second a request body must average, after {@code bodyTimeout} of grace: a
 *                         body must be whole within {@code bodyTimeout} plus one second per this many bytes
 *                         received (Apache's MinRate); 0 turns it off
 * @param sendTimeout      while the gateway has response bytes for a client, the client must take some within
 *                         this (nginx's {@code send_timeout}); also the grace before {@code minSendRate} applies
 * @param minSendRate      bytes per second a client must take a response at, after {@code sendTimeout} of grace:
 *                         the time the gateway waits on the client may not pass {@code sendTimeout} plus one
 *                         second per this many bytes taken; 0 turns it off
 */
public record ListenerLimits(
        int maxRequestLine,
        int maxHeaderBlock,
        int maxHeaders,
        Duration headerTimeout,
        Duration keepaliveTimeout,
        Duration bodyTimeout,
        long minBodyRate,
        Duration sendTimeout,
        long minSendRate) {

    /** Apache mod_reqtimeout's default: far below any real link, far above a client trickling a byte at a time. */
    public static final long DEFAULT_MIN_BODY_RATE = 500;
    /** nginx's send_timeout. */
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);
    /** As the body's: a slow mobile link takes tens of kilobytes a second; a slow-read attack a few bytes. */
    public static final long DEFAULT_MIN_SEND_RATE = 500;
    public static final ListenerLimits DEFAULTS = new ListenerLimits(
            8 * 1024, 16 * 1024, 100, Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30));

    public ListenerLimits(int maxRequestLine, int maxHeaderBlock, int maxHeaders, Duration headerTimeout,
            Duration keepaliveTimeout, Duration bodyTimeout) {
        this(maxRequestLine, maxHeaderBlock, maxHeaders, headerTimeout, keepaliveTimeout, bodyTimeout,
                DEFAULT_MIN_BODY_RATE, DEFAULT_SEND_TIMEOUT, DEFAULT_MIN_SEND_RATE);
    }

    public ListenerLimits {
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(keepaliveTimeout, "keepaliveTimeout");
        Objects.requireNonNull(bodyTimeout, "bodyTimeout");
        Objects.requireNonNull(sendTimeout, "sendTimeout");
    }
}
