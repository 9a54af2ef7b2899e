package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void readsEachUnit() {
        assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
        assertEquals(Duration.ofSeconds(2), Durations.parse("2s"));
        assertEquals(Duration.ofMinutes(1), Durations.parse("1m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
        assertEquals(Duration.ofSeconds(90), Durations.parse("90s"));
    }

    @Test
    void aBareNumberAsksForAUnit() {
        assertEquals("bad duration '2': a duration needs a unit: write 2s or 2ms", message("2"));
    }

    @Test
    void otherSpellingsGetTheStrictOne() {
        assertEquals("bad duration '2 s': write 2s", message("2 s"));
        assertEquals("bad duration '2sec': write 2s", message("2sec"));
        assertEquals("bad duration '5 minutes': write 5m", message("5 minutes"));
        assertEquals("bad duration '2S': write 2s", message("2S"));
        assertEquals("bad duration '1.5s': write 1500ms (whole numbers only)", message("1.5s"));
    }

    @Test
    void zeroNegativeAndGarbageAreRefused() {
        assertEquals("duration '0s' must be positive: write e.g. 1s", message("0s"));
        assertEquals("bad duration '-2s': write an integer and one of ms, s, m, h, e.g. 2s or 250ms", message("-2s"));
        assertEquals("bad duration 'soon': write an integer and one of ms, s, m, h, e.g. 2s or 250ms",
                message("soon"));
        assertEquals("empty duration: write e.g. 2s, 250ms, 1m or 1h", message(""));
    }

    /** Beyond 7 days a duration would overflow a timer's nanoseconds or Netty's int milliseconds somewhere. */
    @Test
    void aWeekIsTheLongest() {
        assertEquals(Duration.ofHours(168), Durations.parse("168h"));
        assertEquals(Duration.ofDays(7), Durations.parse("604800000ms"));
        assertEquals("duration '169h' is too long: write at most 168h (7 days)", message("169h"));
        assertEquals("duration '999999999999s' is too long: write at most 168h (7 days)", message("999999999999s"));
    }

    private static String message(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Durations.parse(text)).getMessage();
    }
}
