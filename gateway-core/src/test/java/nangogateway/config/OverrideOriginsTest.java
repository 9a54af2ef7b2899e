package nangogateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import nangogateway.config.ProviderConfig.OverrideOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One origin rule for the route file's allow lists and for the Base-Url-Override header a caller sends. */
class OverrideOriginsTest {

    @ParameterizedTest
    @CsvSource({
        "https://content.dropboxapi.com, https, content.dropboxapi.com, 443",
        "HTTPS://Content.DropboxAPI.com:443/, https, content.dropboxapi.com, 443",
        "http://files.example:8080, http, files.example, 8080",
        "https://127.0.0.1:8443, https, 127.0.0.1, 8443"})
    void anOriginIsReadInCanonicalForm(String text, String scheme, String host, int port) {
        assertEquals(new OverrideOrigin(scheme, host, port), OverrideOrigins.parse(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "https://content.dropboxapi.com.|remove the trailing '.' of the host: write https://content.dropboxapi.com",
        "https://content.dropboxapi.com.:8443/|write https://content.dropboxapi.com:8443",
        "https://[::1]:8443|an IPv6 address cannot be an override origin",
        "https://\u212Aontent.example|write the host in ASCII",
        "https://cont\u0435nt.dropboxapi.com|is not a host name or IP address",
        "https://-content.example|is not a host name or IP address",
        "https://content.dropboxapi.com/2/files|remove the path '/2/files'",
        "https://content.dropboxapi.com?x=1|remove the query",
        "https://content.dropboxapi.com#x|remove the fragment",
        "https://user@content.dropboxapi.com|remove the user info",
        "ftp://content.dropboxapi.com|scheme 'ftp' is not supported",
        "//content.dropboxapi.com|write scheme://host[:port]",
        "https://content.dropboxapi.com:0|port '0' must be a number from 1 to 65535"})
    void anythingElseIsRefusedSayingWhatToWrite(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OverrideOrigins.parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void theRouteFileRefusesWhatTheHeaderCheckRefuses() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
                upstreams: { nango: { url: http://127.0.0.1:3003 } }
                listeners: [{ name: x, bind: 127.0.0.1:1 }]
                providers:
                  dropbox:
                    base_url_override:
                      allow: [https://content.dropboxapi.com., 'https://[::1]']
                """, "t.yaml"));
        assertEquals("t.yaml:6:15: bad origin 'https://content.dropboxapi.com.' in provider 'dropbox' base_url_override"
                + " allow entry: remove the trailing '.' of the host: write https://content.dropboxapi.com\n"
                + "t.yaml:6:48: bad origin 'https://[::1]' in provider 'dropbox' base_url_override allow entry: an IPv6"
                + " address cannot be an override origin: name the host, e.g. https://content.dropboxapi.com",
                e.getMessage());
    }
}
