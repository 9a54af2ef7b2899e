package nangogateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {
    @TempDir
    Path dir;

    @Test
    void aGoodFileIsOkWithItsCounts() {
        Path file = Cli.write(dir, "gateway.yaml", Cli.ROUTES_YAML);
        Cli.Result r = Cli.run("check", "--config", file.toString());
        assertEquals(0, r.code(), r.toString());
        assertEquals("nango-gateway: configuration " + file + " is ok (2 listeners, 8 routes, 1 upstreams)\n",
                r.out());
        assertEquals("", r.err());
    }

    @Test
    void aYamlSyntaxErrorIsLocatedAndFailsTheTest() {
        Path file = Cli.write(dir, "broken.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: public
                    bind: 127.0.0.1:8080
                    routes: [ {name: x, path: /a
                """);
        Cli.Result r = Cli.run("check", "-c", file.toString());
        assertEquals(1, r.code(), r.toString());
        List<String> lines = lines(r.err());
        assertTrue(lines.size() >= 2, r.toString());
        assertLocated(file, lines.get(0));
        assertEquals("nango-gateway: configuration " + file + " test failed", lines.get(lines.size() - 1));
        assertEquals("", r.out());
    }

    @Test
    void everyErrorIsReportedWithFileLineAndColumn() {
        Path file = Cli.write(dir, "two-errors.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: public
                    bind: 127.0.0.1:8080
                    routes:
                      - name: a
                        path: /a
                        method: [GET]
                        proxy: { upstream: nango }
                      - name: b
                        path: /b
                        proxy: { upstream: nowhere }
                """);
        Cli.Result r = Cli.run("check", "--config", file.toString());
        assertEquals(1, r.code(), r.toString());
        List<String> errors = lines(r.err()).stream().filter(l -> !l.startsWith("nango-gateway:")).toList();
        assertTrue(errors.size() >= 2, "both mistakes reported: " + r);
        errors.forEach(e -> assertLocated(file, e));
        assertTrue(errors.stream().anyMatch(e -> e.startsWith(file + ":10:")), "line of 'method' named: " + r);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith(file + ":14:")), "line of the bad upstream: " + r);
        assertTrue(r.err().endsWith("nango-gateway: configuration " + file + " test failed\n"), r.toString());
    }

    @Test
    void aMissingFileIsAnErrorForTheFile() {
        Path file = dir.resolve("absent.yaml");
        Cli.Result r = Cli.run("check", "--config", file.toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals(file + ":1:1: no such file\nnango-gateway: configuration " + file + " test failed\n", r.err());
    }

    @Test
    void anUnreadableCertificateFailsTheTest() {
        Path cert = Cli.write(dir, "fullchain.pem", "not a certificate\n");
        Path key = Cli.write(dir, "privkey.pem", "not a key\n");
        Path file = Cli.write(dir, "tls.yaml", """
                upstreams:
                  nango:
                    url: http://127.0.0.1:3003
                listeners:
                  - name: public
                    bind: 127.0.0.1:8443
                    tls:
                      cert: %s
                      key: %s
                    routes:
                      - name: a
                        path: /a
                        respond: { status: 204 }
                """.formatted(cert, key));
        Cli.Result r = Cli.run("check", "--config", file.toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains(cert.toString()), "names the certificate file: " + r);
        assertTrue(r.err().endsWith("nango-gateway: configuration " + file + " test failed\n"), r.toString());
    }

    @Test
    void withoutConfigTheEmbeddedDefaultIsChecked() {
        Assumptions.assumeTrue(getClass().getClassLoader().getResource(ConfigSource.EMBEDDED_RESOURCE) != null,
                "conf/dev.yaml is packaged into this build");
        Cli.Result r = Cli.run("check");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("nango-gateway: configuration embedded:dev.yaml is ok ("), r.toString());
    }

    static void assertLocated(Path file, String line) {
        Pattern located = Pattern.compile(Pattern.quote(file.toString()) + ":\\d+:\\d+: \\S.*");
        assertTrue(located.matcher(line).matches(), "not FILE:LINE:COLUMN: message: " + line);
    }

    static List<String> lines(String text) {
        return Arrays.stream(text.split("\n")).filter(l -> !l.isBlank()).toList();
    }
}
