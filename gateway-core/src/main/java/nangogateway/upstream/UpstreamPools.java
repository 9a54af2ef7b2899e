package nangogateway.upstream;

import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import javax.net.ssl.SSLException;
import nangogateway.config.UpstreamConfig;
import nangogateway.tls.TlsMaterial;
import nangogateway.net.Transport;

/**
 * Every event loop's pools, one per upstream definition. Looked up on the event loop that serves the request;
 * a reload that changes an upstream's definition gets a fresh pool, and the old one's idle connections expire.
 */
public final class UpstreamPools {
    private final Transport transport;
    private final int loops;
    private final Queue<UpstreamPool> all = new ConcurrentLinkedQueue<>();
    private final FastThreadLocal<Map<UpstreamConfig, UpstreamPool>> perLoop = new FastThreadLocal<>() {
        @Override
        protected Map<UpstreamConfig, UpstreamPool> initialValue() {
            return new HashMap<>();
        }
    };
    private volatile SslContext clientTls;

    public UpstreamPools(Transport transport, int loops) {
        this.transport = transport;
        this.loops = Math.max(1, loops);
    }

    /** The pool for {@code upstream} on {@code loop}; must be called on that loop. */
    public UpstreamPool pool(EventLoop loop, UpstreamConfig upstream) {
        assert loop.inEventLoop();
        return perLoop.get().computeIfAbsent(upstream, u -> {
            int limit = Math.max(1, (u.maxConnections() + loops - 1) / loops);
            UpstreamPool p = new UpstreamPool(loop, u, transport, u.tls() ? clientTls() : null, limit);
            all.add(p);
            return p;
        });
    }

    private SslContext clientTls() {
        SslContext c = clientTls;
        if (c == null) {
            try {
                // The listeners' TLS stack: BoringSSL when it loaded, else (or with -Dnangogateway.tls=jdk) the JDK's.
                c = SslContextBuilder.forClient()
                        .sslProvider(TlsMaterial.openSsl() ? SslProvider.OPENSSL : SslProvider.JDK)
                        .build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot build the upstream TLS context", e);
            }
            clientTls = c;
        }
        return c;
    }

    /** The names of the upstreams that have a pool on some event loop, sorted. */
    public SortedSet<String> upstreams() {
        SortedSet<String> names = new TreeSet<>();
        for (UpstreamPool p : all) {
            names.add(p.upstream().name());
        }
        return names;
    }

    /**
     * Open connections to the named upstream, summed over the event loops. Read off the loops without
     * synchronisation: a count may be a moment old, never torn (ints).
     */
    public long openConnections(String upstream) {
        long n = 0;
        for (UpstreamPool p : all) {
            if (p.upstream().name().equals(upstream)) {
                n += p.openConnections();
            }
        }
        return n;
    }

    /** Idle pooled connections to the named upstream, summed over the event loops (see openConnections). */
    public long idleConnections(String upstream) {
        long n = 0;
        for (UpstreamPool p : all) {
            if (p.upstream().name().equals(upstream)) {
                n += p.idleConnections();
            }
        }
        return n;
    }

    /** Closes idle connections of every pool, each on its own loop. */
    public void closeIdle() {
        for (UpstreamPool p : all) {
            p.loopExecute(p::closeIdle);
        }
    }
}
