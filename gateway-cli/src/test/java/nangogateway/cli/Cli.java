package nangogateway.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/** Runs the real command line in-process with its output captured. */
final class Cli {
    private Cli() {
    }

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        return run(Main.commandLine(args), args);
    }

    static Result run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Path write(Path dir, String name, String yaml) {
        try {
            return Files.writeString(dir.resolve(name), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A small but complete route file: two listeners, every action, header and websocket conditions. */
    static final String ROUTES_YAML = """
            upstreams:
              nango:
                url: http://127.0.0.1:3003
            listeners:
              - name: public
                bind: 127.0.0.1:8080
                routes:
                  - name: oauth-callback-replay
                    path: /integrations/oauth-callback
                    methods: [GET]
                    callback:
                      upstream: nango
                      path: /oauth/callback
                  - name: oauth-connect
                    path: /oauth/connect/{key}
                    methods: [GET]
                    proxy: { upstream: nango }
                  - name: oauth2-auth
                    path: /oauth2/auth/{key}
                    methods: [POST]
                    proxy: { upstream: nango }
                  - name: connect-session
                    path: /connect/session
                    methods: [GET]
                    headers:
                      Authorization: '^Bearer nango_connect_session_[a-f0-9]{64}$'
                    proxy: { upstream: nango }
                  - name: connect-session-denied
                    path: /connect/session
                    respond: { status: 401 }
                  - name: sdk-websocket
                    path: /
                    methods: [GET]
                    websocket: true
                    proxy: { upstream: nango }
                  - name: webhooks
                    path: /webhook/{env}/{key}
                    methods: [POST]
                    proxy: { upstream: nango, max_request_body: 75MiB }
                otherwise:
                  status: 403
              - name: internal
                bind: 127.0.0.1:3004
                routes:
                  - name: nango-proxy-api
                    prefix: /proxy/
                    proxy:
                      upstream: nango
                      base_url_override: enforce
                otherwise:
                  status: 404
            """;
}
