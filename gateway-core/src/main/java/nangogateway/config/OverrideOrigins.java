package nangogateway.config;

import nangogateway.config.ProviderConfig.OverrideOrigin;

/**
 * The one parser of Base-Url-Override origins: the {@code providers:} allow lists and rules are read with it, and
 * so is the header a caller sends, so an origin the route file could not hold is never matched at request time.
 * It takes the route file's origin rules ({@link Addresses#parseOrigin}) and adds what the header check refused
 * beyond them: a trailing dot, an IPv6 literal and a host that is only ASCII after lower-casing.
 */
public final class OverrideOrigins {
    private static final String EXAMPLE = "https://content.dropboxapi.com";

    private OverrideOrigins() {
    }

    /**
     * An http(s) origin: lower-case scheme and host, explicit or default port, at most a trailing '/'.
     *
     * @throws IllegalArgumentException saying what to write instead
     */
    public static OverrideOrigin parse(String text) {
        Addresses.Origin o = Addresses.parseOrigin(text, EXAMPLE);
        OverrideOrigin origin = new OverrideOrigin(o.scheme(), o.host(), o.port());
        // OverrideOrigin.text() writes the host bare, which for an IPv6 literal is no URL at all.
        if (o.host().contains(":")) {
            throw new IllegalArgumentException("an IPv6 address cannot be an override origin: name the host, e.g. "
                    + EXAMPLE);
        }
        // Second spellings of an origin (letters that lower-case to ASCII, the root label's dot) are refused rather
        // than mapped onto it: a caller's header must name an allowed origin exactly.
        if (!text.chars().allMatch(c -> c < 0x80)) {
            throw new IllegalArgumentException("write the host in ASCII (an international name as xn--...), e.g. "
                    + EXAMPLE);
        }
        String rest = text.substring(text.indexOf("://") + 3);
        String authority = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
        String host = authority.contains(":") ? authority.substring(0, authority.indexOf(':')) : authority;
        if (host.endsWith(".")) {
            throw new IllegalArgumentException("remove the trailing '.' of the host: write " + origin.text());
        }
        return origin;
    }
}
