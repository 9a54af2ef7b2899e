package nangogateway.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import nangogateway.config.TlsConfig;

/**
 * Loads a listener's certificate chain and private key as certbot writes them (PEM full chain; PKCS#8, PKCS#1 RSA
 * or SEC1 EC key), checks that the key belongs to the certificate, and builds the server context: TLS 1.3 and 1.2
 * only, modern AEAD suites, ALPN {@code h2} (where the listener serves it) and {@code http/1.1}; on BoringSSL when it
 * loads (see {@link #openSsl()}), else on the JDK's TLS.
 */
public final class TlsMaterial {
    private static final String KINDS = "an unencrypted PEM key: PKCS#8 'PRIVATE KEY', PKCS#1 'RSA PRIVATE KEY' or"
            + " SEC1 'EC PRIVATE KEY' (any other: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)";

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** TLS 1.2 suites with forward secrecy and AEAD; TLS 1.3 suites are all acceptable. */
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsMaterial() {
    }

    /** What a loaded pair looks like, for logs: subject and expiry of the leaf. */
    public record Loaded(SslContext context, X509Certificate leaf) {
    }

    /**
     * Starts, on a thread of its own, what Netty does once per process before the first TLS context: it sets up the
     * JDK's TLS stack with its CA store to learn the default protocols and suites (a seventh of a second). Started
     * as soon as the route file is read, the first listener's context does not wait for all of it.
     */
    public static void prepareInBackground() {
        Thread thread = new Thread(() -> {
            try {
                if (!openSsl()) {
                    Class.forName("io.netty.handler.ssl.JdkSslContext", true, TlsMaterial.class.getClassLoader());
                }
            } catch (ClassNotFoundException | LinkageError e) {
                // the listener's own load reports whatever is wrong
            }
        }, "tls-init");
        thread.setDaemon(true);
        thread.start();
    }

    public static Loaded load(TlsConfig config) throws TlsException {
        return load(config, config.http2());
    }

    /**
     * Whether TLS runs on BoringSSL (Netty's statically linked build, shipped in the jar): about half the CPU of the
     * JDK's TLS stack per record, and no lock per engine. {@code -Dnangogateway.tls=jdk} asks for the JDK's stack;
     * a machine the native library cannot load on (another CPU, a {@code noexec} temporary directory) falls back to
     * it, and says so in the {@code ready:} line.
     */
    public static boolean openSsl() {
        return !"jdk".equals(System.getProperty("nangogateway.tls")) && OpenSsl.isAvailable();
    }

    /** The TLS implementation in use, for the start-up log line. */
    public static String implementation() {
        if (openSsl()) {
            return OpenSsl.versionString();
        }
        String jdk = "JDK " + System.getProperty("java.version");
        Throwable why = "jdk".equals(System.getProperty("nangogateway.tls")) ? null : OpenSsl.unavailabilityCause();
        return why == null ? jdk : jdk + " (BoringSSL did not load: " + why + ")";
    }

    /**
     * Netty's BoringSSL key manager serves RSA and EC keys; any other kind PemKeys reads (Ed25519) is served by the
     * JDK's stack.
     */
    private static boolean nativeKey(PrivateKey key) {
        return key.getAlgorithm().equals("RSA") || key.getAlgorithm().equals("EC");
    }

    /** {@code http2}: offer {@code h2} by ALPN (the listener's pipeline can serve it), else HTTP/1.1 only. */
    public static Loaded load(TlsConfig config, boolean http2) throws TlsException {
        List<X509Certificate> chain = readChain(config.cert());
        PrivateKey key = readKey(config.key());
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new TlsException(config.key() + ": the private key does not belong to the certificate in "
                    + config.cert() + "; give the key that was issued with that certificate");
        }
        ApplicationProtocolConfig alpn = new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                http2
                        ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                        : List.of(ApplicationProtocolNames.HTTP_1_1));
        if (openSsl() && nativeKey(key)) {
            try {
                // Netty hands the key and chain to BoringSSL through an in-memory key store: JKS, which holds a key
                // without PKCS#12's 10,000-fold PBKDF2 each way; and an empty trust store, so that the JDK's CA store
                // is neither read nor copied into the context (no client certificates are asked for).
                SslContext ctx = SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
                        .sslProvider(SslProvider.OPENSSL)
                        .keyStoreType("JKS")
                        .trustManager(trustNobody())
                        .protocols(PROTOCOLS)
                        .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                        .applicationProtocolConfig(alpn)
                        .clientAuth(ClientAuth.NONE)
                        .build();
                return new Loaded(ctx, chain.get(0));
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                throw contextError(config, e);
            }
        }
        try {
            // The context is made here rather than by SslContextBuilder: Netty's JDK server context runs a one-off
            // self-check when its class loads (a PKCS#12 store for a built-in key, two rounds of 10,000-fold PBKDF2),
            // about a third of a second of every start for a feature (client certificates) the gateway does not use.
            SSLContext jdk = SSLContext.getInstance("TLS");
            // No trust managers: without client certificates a server trusts nobody, and null would make the JDK
            // read its whole CA store (a tenth of a second) for nothing.
            jdk.init(keyManager(key, chain).getKeyManagers(), new TrustManager[0], null);
            SslContext ctx = new JdkSslContext(jdk, false, CIPHERS, SupportedCipherSuiteFilter.INSTANCE, alpn,
                    ClientAuth.NONE, PROTOCOLS, false);
            return new Loaded(ctx, chain.get(0));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw contextError(config, e);
        }
    }

    private static TlsException contextError(TlsConfig config, Exception e) {
        return new TlsException(config.cert() + ": cannot build a TLS context: " + e.getMessage()
                + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
    }

    private static TrustManagerFactory trustNobody() throws GeneralSecurityException, IOException {
        KeyStore none = KeyStore.getInstance("JKS");
        none.load(null, null);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(none);
        return factory;
    }

    static List<X509Certificate> readChain(Path file) throws TlsException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) c);
            }
        } catch (IOException e) {
            throw new TlsException(file + ": cannot read: " + e.getMessage());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new TlsException(file + ": not a valid PEM certificate chain: " + e.getMessage());
        }
        if (chain.isEmpty()) {
            throw new TlsException(file + ": no '-----BEGIN CERTIFICATE-----' block (expected a PEM full chain)");
        }
        return chain;
    }

    static PrivateKey readKey(Path file) throws TlsException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsException(file + ": cannot read: no such file");
        } catch (IOException e) {
            throw new TlsException(file + ": cannot read: " + e.getMessage());
        }
        try {
            return PemKeys.read(text);
        } catch (PemKeys.BadKey e) {
            if (e.encrypted) {
                throw new TlsException(file + ": the key is encrypted; give the gateway an unencrypted key"
                        + " readable only by its user (openssl pkey -in KEY -out KEY.plain)");
            }
            if (e.absent) {
                throw new TlsException(file + ": no private key block; expected " + KINDS);
            }
            // A truncated or corrupted file: a missing END line, bad base64 or malformed DER.
            throw new TlsException(file + ": not a readable PEM private key (" + e.getMessage() + "); expected the"
                    + " complete key file as written (certbot's privkey.pem), " + KINDS);
        }
    }

    /**
     * The key and chain as a key manager. Netty's own route goes through a PKCS#12 key store, whose default key
     * protection is 10,000 rounds of PBKDF2 each way: a fifth of a second of every start and reload. The JDK's
     * JKS store holds a key in memory without them; it never reaches a file either way.
     */
    private static KeyManagerFactory keyManager(PrivateKey key, List<X509Certificate> chain)
            throws GeneralSecurityException, IOException {
        char[] password = "in-memory".toCharArray();
        KeyStore store = KeyStore.getInstance("JKS");
        store.load(null, null);
        store.setKeyEntry("gateway", key, password, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return factory;
    }

    static boolean matches(PrivateKey key, PublicKey pub) {
        // An RSA key as certbot and openssl write it carries its public half: compare, rather than sign with a cold
        // JVM's big-integer code.
        if (key instanceof RSAPrivateCrtKey rsa) {
            return pub instanceof RSAPublicKey p && p.getModulus().equals(rsa.getModulus())
                    && p.getPublicExponent().equals(rsa.getPublicExponent());
        }
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null) {
            return false;
        }
        try {
            byte[] probe = "nango-gateway key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
