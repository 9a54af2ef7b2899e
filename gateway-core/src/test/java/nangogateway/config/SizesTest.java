package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void readsBytesAndBinaryUnits() {
        assertEquals(512, Sizes.parse("512"));
        assertEquals(512, Sizes.parse("512B"));
        assertEquals(16 * 1024, Sizes.parse("16KiB"));
        assertEquals(1024 * 1024, Sizes.parse("1MiB"));
        assertEquals(1024L * 1024 * 1024, Sizes.parse("1GiB"));
        assertEquals(75L * 1024 * 1024, Sizes.parse("75MiB"));
        assertEquals(0, Sizes.parse("0"));
    }

    @Test
    void decimalLookingUnitsGetTheBinarySpelling() {
        assertEquals("bad size '16KB': write 16KiB", message("16KB"));
        assertEquals("bad size '16kb': write 16KiB", message("16kb"));
        assertEquals("bad size '1M': write 1MiB", message("1M"));
        assertEquals("bad size '16 KiB': write 16KiB", message("16 KiB"));
        assertEquals("bad size '512b': write 512B", message("512b"));
        assertEquals("bad size '2GB': write 2GiB", message("2GB"));
    }

    @Test
    void fractionsStepDownAUnit() {
        assertEquals("bad size '1.5MiB': write 1536KiB (whole numbers only)", message("1.5MiB"));
    }

    @Test
    void garbageAndOverflowAreRefused() {
        assertEquals("bad size '-1': write bytes or an integer with KiB, MiB or GiB, e.g. 512, 16KiB or 1MiB",
                message("-1"));
        assertEquals("bad size 'big': write bytes or an integer with KiB, MiB or GiB, e.g. 512, 16KiB or 1MiB",
                message("big"));
        assertEquals("size '999999999999999GiB' is too large", message("999999999999999GiB"));
        assertEquals("empty size: write e.g. 512, 16KiB or 1MiB", message(""));
    }

    private static String message(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text)).getMessage();
    }
}
