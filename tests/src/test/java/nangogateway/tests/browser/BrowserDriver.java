package nangogateway.tests.browser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** Runs {@code node tests/browser/drive.mjs} for one scenario and returns what it recorded (its JSON, parsed). */
final class BrowserDriver {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    private BrowserDriver() {
    }

    /** tests/browser, whether Maven runs in the tests module or at the root. */
    static Path browserDir() {
        Path here = Path.of(System.getProperty("user.dir"));
        Path inModule = here.resolve("browser");
        return Files.isDirectory(inModule.resolve("app")) ? inModule : here.resolve("tests/browser");
    }

    /** The SDK's flow: open the app page and click Connect. */
    static Map<String, Object> run(String name, String pageUrl, String gatewayOrigin, Path outDir) throws Exception {
        return run(name, pageUrl, gatewayOrigin, outDir, Map.of());
    }

    /** A flow that starts at pageUrl: click the element {@code selector} and wait until the tab shows landingUrl. */
    static Map<String, Object> clickThrough(String name, String pageUrl, String selector, String landingUrl,
            String gatewayOrigin, Path outDir) throws Exception {
        return run(name, pageUrl, gatewayOrigin, outDir, Map.of("click", selector, "landingUrl", landingUrl));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> run(String name, String pageUrl, String gatewayOrigin, Path outDir,
            Map<String, String> flow) throws Exception {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", name);
        cfg.put("pageUrl", pageUrl);
        cfg.put("gatewayOrigin", gatewayOrigin);
        cfg.put("executablePath", CHROMIUM.toString());
        cfg.put("outDir", outDir.toAbsolutePath().toString());
        cfg.put("timeoutMs", 20000);
        cfg.putAll(flow);
        StringBuilder json = new StringBuilder("{");
        cfg.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
                .append(v instanceof String s ? "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : v));
        json.append('}');
        Path log = Files.createTempFile("drive-" + name, ".log");
        try {
            Process p = new ProcessBuilder("node", "drive.mjs", json.toString()).directory(browserDir().toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(50, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("the browser driver did not finish in 50 s:\n" + Files.readString(log));
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            String line = output.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                    .orElseThrow(() -> new AssertionError("no RESULT from the browser driver (exit " + p.exitValue()
                            + "):\n" + output));
            LoaderOptions options = new LoaderOptions();
            options.setCodePointLimit(64 * 1024 * 1024);
            Map<String, Object> result = (Map<String, Object>) new Yaml(options).load(
                    new String(java.util.Base64.getDecoder().decode(line.substring(7).trim()), StandardCharsets.UTF_8));
            if (result.get("failure") != null) {
                throw new AssertionError("the browser driver failed: " + result.get("failure") + "\n" + output);
            }
            return result;
        } catch (IOException e) {
            throw new AssertionError("could not run node", e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Map<String, Object> result, String key) {
        return (List<Map<String, Object>>) result.get(key);
    }
}
