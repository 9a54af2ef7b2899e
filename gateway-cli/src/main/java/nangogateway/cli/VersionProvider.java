package nangogateway.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code --version}: the project version Maven wrote into {@code version.properties} at build time. */
final class VersionProvider implements IVersionProvider {
    static final String RESOURCE = "nangogateway/cli/version.properties";

    @Override
    public String[] getVersion() {
        return new String[] {"nango-gateway " + version()};
    }

    static String version() {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        String v = p.getProperty("version", "");
        // An unfiltered placeholder means the classes were not built by Maven.
        return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
    }
}
