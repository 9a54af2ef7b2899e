package nangogateway.tests.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nangogateway.tests.fuzz.ResponseFuzz.Case;
import nangogateway.tests.fuzz.ResponseFuzz.Stats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of the gateway's upstream response decoder ({@code UpstreamResponseDecoder}) against
 * llhttp's response parser, as Node's http client reads a response.
 *
 * <p>Each case (see {@link ResponseStreams}: a response Nango could send, to a GET or a HEAD, mutated, from a
 * seed) is written by a raw-socket upstream as its answer, sometimes in two pieces, on a route that buffers the
 * response and on one that streams it; llhttp reads the same bytes. The oracle: whenever the gateway relays a
 * response, llhttp reads the same bytes as that response: the same status and reason phrase, the same body (whole
 * when the client got it whole: never a truncated body passed off as whole), and the upstream's header lines in
 * order, byte for byte, but for the hop-by-hop ones and the gateway's own ({@link ResponseFuzz#difference}). Where
 * llhttp reads no response, the gateway answers its own 502 (or cuts the connection inside a body it had begun to
 * relay). Nothing may follow the response on the client connection. The gateway refusing what llhttp reads is
 * counted, not failed.
 *
 * <p>{@code mvn verify} runs {@value #DEFAULT_CASES} cases from a fixed seed and every case in
 * {@code src/test/resources/fuzz/response-regressions.txt}. By hand: {@code -Dfuzz.responses=100000
 * -Dfuzz.seed=...} ({@code -Dfuzz.connections}, {@code -Dfuzz.batch} and {@code -Dfuzz.only} as for
 * {@link RequestFuzzTest}).
 */
class ResponseFuzzTest {
    static final int DEFAULT_CASES = 5_000;

    private static LlhttpRecorder recorder;

    @BeforeAll
    static void startNode() throws Exception {
        recorder = LlhttpRecorder.start();
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (recorder != null) {
            recorder.close();
        }
    }

    @Test
    void everyRegressionResponseIsReadAlikeByTheGatewayAndLlhttp() throws Exception {
        List<Case> cases = regressions(Path.of("src/test/resources/fuzz/response-regressions.txt"));
        assertTrue(!cases.isEmpty(), "the regression file holds responses");
        Stats stats = new ResponseFuzz(recorder, RequestFuzzTest.DEFAULT_CONNECTIONS).run(cases);
        System.out.println("response regressions: " + stats);
        assertTrue(stats.discrepancies.isEmpty(), stats + "\n" + ResponseFuzz.report(stats.discrepancies, 5));
    }

    @Test
    void seededResponsesAreReadAlikeByTheGatewayAndLlhttp() throws Exception {
        long seed = Long.decode(System.getProperty("fuzz.seed", Long.toString(RequestFuzzTest.DEFAULT_SEED)));
        int count = Integer.getInteger("fuzz.responses", DEFAULT_CASES);
        int connections = Integer.getInteger("fuzz.connections", RequestFuzzTest.DEFAULT_CONNECTIONS);
        int batch = Integer.getInteger("fuzz.batch", 10_000);
        List<Integer> indexes = new ArrayList<>();
        for (String s : System.getProperty("fuzz.only", "").split(",")) {
            if (!s.isBlank()) {
                indexes.add(Integer.parseInt(s.trim()));
            }
        }
        if (indexes.isEmpty()) {
            for (int i = 0; i < count; i++) {
                indexes.add(i);
            }
        }
        ResponseFuzz fuzz = new ResponseFuzz(recorder, connections);
        Stats total = new Stats();
        long start = System.nanoTime();
        for (int from = 0; from < indexes.size(); from += batch) {
            List<Case> cases = new ArrayList<>();
            for (int i : indexes.subList(from, Math.min(indexes.size(), from + batch))) {
                long s = RequestFuzzTest.streamSeed(seed ^ 0x5245535000000000L, i);
                ResponseStreams.Case rc = ResponseStreams.stream(s);
                SplittableRandom r = new SplittableRandom(s ^ 1);
                int split = r.nextInt(4) == 0 ? 1 + r.nextInt(Math.max(1, rc.bytes().length)) : 0;
                cases.add(new Case("seed " + seed + " response " + i, rc.method(), rc.bytes(), split));
            }
            total.add(fuzz.run(cases));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("response fuzz, seed %d: %s; %.1f s, %.0f responses/s over %d connections%n", seed, total,
                seconds, total.cases / seconds, connections);
        if (!total.discrepancies.isEmpty()) {
            Path out = Path.of("target", "response-fuzz-discrepancies.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, ResponseFuzz.report(total.discrepancies, Integer.MAX_VALUE));
        }
        assertTrue(total.discrepancies.isEmpty(), total + " (all in target/response-fuzz-discrepancies.txt)\n"
                + ResponseFuzz.report(total.discrepancies, 5));
    }

    /** One case a line: the request's method, a space, the upstream's bytes escaped; '#' lines say what. */
    static List<Case> regressions(Path file) throws IOException {
        List<Case> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String about = "";
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("#")) {
                about = l.substring(1).trim();
            } else if (!l.isBlank()) {
                int sp = l.indexOf(' ');
                out.add(new Case(file.getFileName() + ":" + (i + 1) + " (" + about + ")", l.substring(0, sp),
                        Escapes.unescape(l.substring(sp + 1)), 0));
            }
        }
        return out;
    }
}
