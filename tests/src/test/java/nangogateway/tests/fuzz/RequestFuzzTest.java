package nangogateway.tests.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import nangogateway.tests.fuzz.RequestFuzz.Case;
import nangogateway.tests.fuzz.RequestFuzz.Stats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of the gateway's HTTP/1.1 front end against llhttp, the parser of Node behind it: Node never
 * reads a request differently from the gateway.
 *
 * <p>Each client byte stream (see {@link RequestStreams}: one to three pipelined requests from seeds the fuzz
 * listener admits, mutated, from a seed) is read three ways: the gateway's answers on the client connection; what
 * Node's server behind the gateway read ({@code tests/llhttp-recorder/recorder.js} records every request and parse
 * error, and each stream comes from a client address of its own, which the gateway forwards in
 * {@code X-Forwarded-For}); and llhttp's own reading of the client's bytes, as Node's server would read them off
 * the connection. The oracle, per stream:
 * <ul>
 *   <li>Node never fails to parse what the gateway sends (no {@code clientError}), never takes a request as a
 *       CONNECT tunnel, and never reads a request that llhttp does not read off the client's bytes;</li>
 *   <li>Node's k-th request (k found by the gateway's request id on its answers) is llhttp's k-th request as the
 *       gateway forwards it ({@link ForwardingModel}): same method, target and body bytes, the client's header
 *       lines in order and byte for byte except the ones the gateway drops or sets, each set exactly once;</li>
 *   <li>a request Node read whole was read whole by llhttp too; one Node read cut off (a streamed body the
 *       gateway then refused) got a start of llhttp's body;</li>
 *   <li>nothing the gateway refused with a 4xx reached Node whole, and each answer of Node's that the client got
 *       is the answer to that client's request at that place.</li>
 * </ul>
 * The gateway may refuse more than llhttp (it is stricter by design); those are counted, not failed.
 *
 * <p>Run sizes: {@code mvn verify} sends {@value #DEFAULT_STREAMS} streams from a fixed seed, over
 * {@value #DEFAULT_CONNECTIONS} concurrent connections, and every stream in
 * {@code src/test/resources/fuzz/request-regressions.txt} (each discrepancy ever found). A long run by hand:
 * <pre>
 * mvn -B -o verify -pl tests -am -Dtest='RequestFuzzTest' -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfuzz.streams=500000 -Dfuzz.seed=12345 [-Dfuzz.connections=48] [-Dfuzz.batch=10000]
 * </pre>
 * {@code -Dfuzz.only=17,4242} sends only those streams of the seed (to reproduce one). Streams are sent in
 * batches of {@code fuzz.batch}, one gateway per batch. A discrepancy is reported with its seed, stream number and
 * the stream's bytes escaped, ready for the regression file.
 */
class RequestFuzzTest {
    static final int DEFAULT_STREAMS = 20_000;
    static final int DEFAULT_CONNECTIONS = 32;
    static final long DEFAULT_SEED = 0x6e616e676fL;

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

    /** The seed of stream {@code i} of run {@code seed}. */
    static long streamSeed(long seed, int i) {
        return new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (i + 1))).nextLong();
    }

    @Test
    void everyRegressionStreamIsReadAlikeByTheGatewayAndNode() throws Exception {
        List<Case> cases = regressions(Path.of("src/test/resources/fuzz/request-regressions.txt"));
        assertTrue(!cases.isEmpty(), "the regression file holds streams");
        Stats stats = new RequestFuzz(recorder, DEFAULT_CONNECTIONS).run(cases);
        System.out.println("request regressions: " + stats);
        assertTrue(stats.discrepancies.isEmpty(), stats + "\n" + RequestFuzz.report(stats.discrepancies, 5));
    }

    @Test
    void seededStreamsAreReadAlikeByTheGatewayAndNode() throws Exception {
        long seed = Long.decode(System.getProperty("fuzz.seed", Long.toString(DEFAULT_SEED)));
        int streams = Integer.getInteger("fuzz.streams", DEFAULT_STREAMS);
        int connections = Integer.getInteger("fuzz.connections", DEFAULT_CONNECTIONS);
        int batch = Integer.getInteger("fuzz.batch", 10_000);
        List<Integer> only = new ArrayList<>();
        for (String s : System.getProperty("fuzz.only", "").split(",")) {
            if (!s.isBlank()) {
                only.add(Integer.parseInt(s.trim()));
            }
        }
        List<Integer> indexes = new ArrayList<>();
        if (only.isEmpty()) {
            for (int i = 0; i < streams; i++) {
                indexes.add(i);
            }
        } else {
            indexes.addAll(only);
        }
        RequestFuzz fuzz = new RequestFuzz(recorder, connections);
        Stats total = new Stats();
        long start = System.nanoTime();
        for (int from = 0; from < indexes.size(); from += batch) {
            List<Case> cases = new ArrayList<>();
            for (int i : indexes.subList(from, Math.min(indexes.size(), from + batch))) {
                long s = streamSeed(seed, i);
                cases.add(new Case("seed " + seed + " stream " + i, RequestStreams.stream(s)));
            }
            total.add(fuzz.run(cases));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("request fuzz, seed %d: %s; %.1f s, %.0f streams/s over %d connections%n", seed, total,
                seconds, total.streams / seconds, connections);
        if (!total.discrepancies.isEmpty()) {
            Path out = Path.of("target", "request-fuzz-discrepancies.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, RequestFuzz.report(total.discrepancies, Integer.MAX_VALUE));
        }
        assertTrue(total.discrepancies.isEmpty(), total + " (all in target/request-fuzz-discrepancies.txt)\n"
                + RequestFuzz.report(total.discrepancies, 5));
    }

    /** The streams of a regression file: one escaped stream a line; '#' lines say what each is. */
    static List<Case> regressions(Path file) throws IOException {
        List<Case> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String about = "";
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("#")) {
                about = l.substring(1).trim();
            } else if (!l.isBlank()) {
                out.add(new Case(file.getFileName() + ":" + (i + 1) + " (" + about + ")", Escapes.unescape(l)));
            }
        }
        return out;
    }
}
