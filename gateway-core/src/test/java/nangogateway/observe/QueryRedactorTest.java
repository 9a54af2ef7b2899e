package nangogateway.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Secret query values never reach a log line; everything else is kept as it was, in order. */
class QueryRedactorTest {

    @Test
    void redactsOAuthCallbackSecretsAndKeepsTheRest() {
        assertEquals("/integrations/oauth-callback?code=[redacted]&state=[redacted]&scope=read%20write&x=1",
                QueryRedactor.redact("/integrations/oauth-callback?code=4%2F0AfJohX-abc&state=s3cr3t"
                        + "&scope=read%20write&x=1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"code", "state", "token", "access_token", "refresh_token", "id_token", "oauth_token",
        "oauth_verifier", "connect_session_token", "public_key", "client_secret", "secret", "password", "api_key",
        "apikey", "signature", "sig", "session_token", "assertion", "client_assertion"})
    void redactsEveryBuiltInSecretName(String name) {
        assertEquals("/p?a=1&" + name + "=[redacted]&b=2", QueryRedactor.redact("/p?a=1&" + name + "=v4lue&b=2"));
    }

    @Test
    void namesAreCaseInsensitiveAndKeepTheirSpelling() {
        assertEquals("/cb?Code=[redacted]&STATE=[redacted]&Access_Token=[redacted]",
                QueryRedactor.redact("/cb?Code=abc&STATE=def&Access_Token=ghi"));
    }

    @Test
    void percentEncodedNamesAreRedactedToo() {
        assertEquals("/cb?c%6Fde=[redacted]&%53tate=[redacted]",
                QueryRedactor.redact("/cb?c%6Fde=abc&%53tate=def"));
    }

    @Test
    void otherParametersAndTheirOrderAreKeptByteForByte() {
        String target = "/oauth/connect/github?public_key_x=1&connection_id=a%2Fb&params=%7B%7D&z=&flag&coder=9";
        assertEquals(target, QueryRedactor.redact(target));
    }

    @Test
    void repeatedAndEmptySecretsAreAllRedacted() {
        assertEquals("/cb?code=[redacted]&x=1&code=[redacted]&state=[redacted]",
                QueryRedactor.redact("/cb?code=a&x=1&code=b&state="));
    }

    @Test
    void aValueContainingEqualsIsRedactedWhole() {
        assertEquals("/cb?token=[redacted]&n=1", QueryRedactor.redact("/cb?token=abc==&n=1"));
    }

    @Test
    void emptyPairsAndTrailingAmpersandsAreKept() {
        assertEquals("/cb?&code=[redacted]&&x=1&", QueryRedactor.redact("/cb?&code=a&&x=1&"));
    }

    @Test
    void withoutAQueryTheTargetIsUnchanged() {
        assertEquals("/oauth/callback", QueryRedactor.redact("/oauth/callback"));
        assertEquals("/oauth/callback?", QueryRedactor.redact("/oauth/callback?"));
        assertEquals("/a?code", QueryRedactor.redact("/a?code"), "a name without a value has nothing to hide");
    }

    @Test
    void aQueryInsideAValueIsReadToo() {
        assertEquals("/a?next=/b?code=[redacted]&code=[redacted]", QueryRedactor.redact("/a?next=/b?code=1&code=2"));
    }

    /** Every spelling an audit found written in clear. */
    @Test
    void secretsBehindOtherSeparatorsAreRedacted() {
        assertEquals("/cb?x=1;code=[redacted]", QueryRedactor.redact("/cb?x=1;code=S"));
        assertEquals("/cb?x=1;state=[redacted];access_token=[redacted]",
                QueryRedactor.redact("/cb?x=1;state=S;access_token=S"));
        assertEquals("/cb?state=[redacted]&amp;code=[redacted]", QueryRedactor.redact("/cb?state=S&amp;code=S"));
        assertEquals("/cb?code[]=[redacted]&state[0]=[redacted]&a[access_token]=[redacted]&x[y]=1",
                QueryRedactor.redact("/cb?code[]=S&state[0]=S&a[access_token]=S&x[y]=1"));
        assertEquals("/cb?x=1#code=[redacted]", QueryRedactor.redact("/cb?x=1#code=S"));
        assertEquals("https://a/cb#access_token=[redacted]&expires_in=3600",
                QueryRedactor.redact("https://a/cb#access_token=S&expires_in=3600"));
        assertEquals("https://a/#/cb?code=[redacted]", QueryRedactor.redact("https://a/#/cb?code=S"));
    }

    @Test
    void aSecretEncodedInsideAnotherValueIsRedactedWithIt() {
        assertEquals("/a?next=[redacted]&n=1", QueryRedactor.redact("/a?next=https%3A%2F%2Fx%2Fcb%3Fcode%3DS&n=1"));
        assertEquals("/a?next=[redacted]", QueryRedactor.redact("/a?next=%252Fcb%253Fstate%253DS"));
        assertEquals("/a?next=%2Fhome%3Fpage%3D2", QueryRedactor.redact("/a?next=%2Fhome%3Fpage%3D2"));
    }

    @Test
    void namesThatContainASecretWordAreRedacted() {
        assertEquals("/a?x_auth_token=[redacted]&db_password=[redacted]&client_Secret2=[redacted]&provider=github",
                QueryRedactor.redact("/a?x_auth_token=S&db_password=S&client_Secret2=S&provider=github"));
    }

    @Test
    void absoluteUrlsLikeARefererAreRedacted() {
        assertEquals("https://accounts.example.com/o/oauth2/auth?client_id=c&state=[redacted]",
                QueryRedactor.redact("https://accounts.example.com/o/oauth2/auth?client_id=c&state=xyz"));
    }

    /** The config loader lower-cases {@code access_log.redact} names; matching is then case-insensitive. */
    @Test
    void extraNamesFromTheListenerAreRedacted() {
        assertEquals("/hook?hmac=[redacted]&Tenant_Key=[redacted]&other=1",
                QueryRedactor.redact("/hook?hmac=1&Tenant_Key=2&other=1", Set.of("hmac", "tenant_key")));
    }
}
