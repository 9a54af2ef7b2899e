package nangogateway.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.TrustManagerFactory;
import nangogateway.config.TlsConfig;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys in each form certbot and openssl write (PKCS#8, PKCS#1 RSA, SEC1 EC) load and complete a handshake; broken
 * or mismatched files are refused with a message naming the file. Keys are made per run, never committed.
 */
class TlsMaterialTest {
    @TempDir
    Path dir;

    private record Pair(X509Certificate cert, KeyPair keys) {
    }

    @Test
    void pkcs1RsaKeyServesAHandshake() throws Exception {
        Pair p = generate("RSA", "rsa.example");
        TlsConfig tls = write(p, traditional(p.keys().getPrivate()), "RSA PRIVATE KEY");
        assertEquals("CN=rsa.example", handshake(TlsMaterial.load(tls).context(), p.cert()));
    }

    /**
     * BoringSSL when it loads (it does on the build's linux-x86_64), the JDK's stack when asked for: both offer
     * exactly TLS 1.3 and 1.2, the same ALPN list, and serve a handshake.
     */
    @Test
    void bothTlsStacksOfferTheSameProtocolsAndServeAHandshake() throws Exception {
        Pair p = generate("EC", "stacks.example");
        TlsConfig tls = write(p, traditional(p.keys().getPrivate()), "EC PRIVATE KEY");
        assertTrue(TlsMaterial.openSsl(), "BoringSSL loads on this machine");
        assertTrue(TlsMaterial.implementation().startsWith("BoringSSL"), TlsMaterial.implementation());
        SslContext native_ = TlsMaterial.load(tls, true).context();
        assertTrue(native_ instanceof io.netty.handler.ssl.OpenSslContext, native_.getClass().getName());
        SslContext jdk;
        System.setProperty("nangogateway.tls", "jdk");
        try {
            assertTrue(TlsMaterial.implementation().startsWith("JDK "), TlsMaterial.implementation());
            jdk = TlsMaterial.load(tls, true).context();
        } finally {
            System.clearProperty("nangogateway.tls");
        }
        assertTrue(jdk instanceof io.netty.handler.ssl.JdkSslContext, jdk.getClass().getName());
        for (SslContext ctx : List.of(native_, jdk)) {
            assertEquals(List.of("h2", "http/1.1"), ctx.applicationProtocolNegotiator().protocols());
            SSLEngine engine = ctx.newEngine(ByteBufAllocator.DEFAULT);
            try {
                // Netty's OpenSSL engine always lists the pseudo-protocol SSLv2Hello (a ClientHello format, which
                // BoringSSL does not even parse); no SSL or TLS below 1.2 is enabled on either.
                assertEquals(java.util.Set.of("TLSv1.3", "TLSv1.2"), java.util.Arrays.stream(engine.getEnabledProtocols())
                        .filter(v -> !v.equals("SSLv2Hello")).collect(java.util.stream.Collectors.toSet()),
                        ctx.getClass().getName());
            } finally {
                io.netty.util.ReferenceCountUtil.release(engine);
            }
            assertEquals("CN=stacks.example", handshake(ctx, p.cert()));
        }
        assertEquals(List.of("http/1.1"), TlsMaterial.load(tls, false).context().applicationProtocolNegotiator()
                .protocols());
    }

    /** An Ed25519 key (which Netty's BoringSSL key manager does not serve) is served by the JDK's stack. */
    @Test
    void ed25519KeyServesAHandshake() throws Exception {
        Pair p = generate("Ed25519", "ed.example");
        TlsConfig tls = write(p, pem("PRIVATE KEY", p.keys().getPrivate().getEncoded()), "PRIVATE KEY");
        SslContext ctx = TlsMaterial.load(tls, true).context();
        assertTrue(ctx instanceof io.netty.handler.ssl.JdkSslContext, ctx.getClass().getName());
        assertEquals("CN=ed.example", handshake(ctx, p.cert()));
    }

    @Test
    void sec1EcKeyServesAHandshake() throws Exception {
        Pair p = generate("EC", "ec.example");
        TlsConfig tls = write(p, traditional(p.keys().getPrivate()), "EC PRIVATE KEY");
        assertEquals("CN=ec.example", handshake(TlsMaterial.load(tls).context(), p.cert()));
    }

    @Test
    void sec1EcKeyAfterItsParametersBlockLoads() throws Exception {
        // openssl ecparam -genkey writes an "EC PARAMETERS" block before the key
        Pair p = generate("EC", "ecparam.example");
        String params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        TlsConfig tls = write(p, params + traditional(p.keys().getPrivate()), "EC PRIVATE KEY");
        assertEquals("CN=ecparam.example", handshake(TlsMaterial.load(tls).context(), p.cert()));
    }

    @Test
    void pkcs8KeysServeAHandshake() throws Exception {
        for (String alg : new String[] {"RSA", "EC"}) {
            Pair p = generate(alg, alg.toLowerCase() + "8.example");
            TlsConfig tls = write(p, pem("PRIVATE KEY", p.keys().getPrivate().getEncoded()), "PRIVATE KEY");
            assertEquals("CN=" + alg.toLowerCase() + "8.example", handshake(TlsMaterial.load(tls).context(), p.cert()));
        }
    }

    @Test
    void keysWrittenByOpensslLoad() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
        String[][] forms = {
            {"rsa:2048", "RSA PRIVATE KEY", "rsa", "-traditional"},
            {"ec", "EC PRIVATE KEY", "ec", null},
            {"rsa:2048", "PRIVATE KEY", null, null},
            {"ec", "PRIVATE KEY", null, null},
        };
        for (String[] f : forms) {
            Path sub = Files.createTempDirectory(dir, "openssl");
            Path cert = sub.resolve("fullchain.pem");
            Path key = sub.resolve("privkey.pem");
            List<String> req = new ArrayList<>(List.of("req", "-x509", "-newkey", f[0], "-nodes", "-days", "2",
                    "-subj", "/CN=openssl.example", "-keyout", key.toString(), "-out", cert.toString()));
            if (f[0].equals("ec")) {
                req.addAll(List.of("-pkeyopt", "ec_paramgen_curve:P-256"));
            }
            openssl(req.toArray(new String[0]));
            if (f[2] != null) {
                openssl(f[3] == null ? new String[] {f[2], "-in", key.toString(), "-out", key.toString()}
                        : new String[] {f[2], f[3], "-in", key.toString(), "-out", key.toString()});
            }
            assertTrue(Files.readString(key).startsWith("-----BEGIN " + f[1] + "-----"), Files.readString(key));
            TlsMaterial.Loaded loaded = TlsMaterial.load(new TlsConfig(cert, key));
            assertEquals("CN=openssl.example", handshake(loaded.context(), loaded.leaf()));
        }
    }

    private static void openssl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "/usr/bin/openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, out);
    }

    @Test
    void aTruncatedKeyIsAConfigErrorNamingTheFile() throws Exception {
        for (String alg : new String[] {"EC", "RSA"}) {
            Pair p = generate(alg, "cut.example");
            String whole = traditional(p.keys().getPrivate());
            // a well-formed PEM block around DER cut short
            byte[] raw = parseBlock(whole);
            assertKeyRefused(write(p, pem(alg.equals("RSA") ? "RSA PRIVATE KEY" : "EC PRIVATE KEY",
                    java.util.Arrays.copyOf(raw, raw.length - 7)), null), "not a readable PEM private key");
            byte[] der = p.keys().getPrivate().getEncoded();
            assertKeyRefused(write(p, pem("PRIVATE KEY", java.util.Arrays.copyOf(der, der.length / 2)), null),
                    "not a readable PEM private key");
            // a file cut inside the base64, without its END line (a partial copy, a full disk)
            assertKeyRefused(write(p, whole.substring(0, whole.length() / 2), null), "not a readable PEM private key");
        }
    }

    @Test
    void garbageAndEmptyKeyFilesAreConfigErrors() throws Exception {
        Pair p = generate("EC", "garbage.example");
        assertKeyRefused(write(p, "", null), "no private key block");
        assertKeyRefused(write(p, "not a key at all\n", null), "no private key block");
        assertKeyRefused(write(p, "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n", null),
                "not a readable PEM private key");
        assertKeyRefused(write(p, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", null),
                "not a readable PEM private key");
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificateIsRefused() throws Exception {
        Pair p = generate("RSA", "mine.example");
        Pair other = generate("RSA", "other.example");
        TlsConfig tls = write(p, traditional(other.keys().getPrivate()), "RSA PRIVATE KEY");
        TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.key() + ": the private key does not belong to the certificate in "
                + tls.cert()), e.getMessage());
    }

    @Test
    void anEncryptedKeyIsRefusedWithWhatToDo() throws Exception {
        Pair p = generate("EC", "locked.example");
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(new JcaPKCS8Generator(p.keys().getPrivate(),
                    new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                            .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                            .setPassword("secret".toCharArray()).build()));
        }
        TlsConfig tls = write(p, out.toString(), "ENCRYPTED PRIVATE KEY");
        TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.key() + ": the key is encrypted"), e.getMessage());
    }

    @Test
    void aTraditionalKeyLockedWithAPassphraseIsRefusedAsEncrypted() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl is not installed");
        for (String alg : new String[] {"rsa", "ec"}) {
            Pair p = generate(alg.toUpperCase(java.util.Locale.ROOT), "proc-type.example");
            TlsConfig tls = write(p, traditional(p.keys().getPrivate()), null);
            // Proc-Type: 4,ENCRYPTED and DEK-Info headers inside an RSA/EC PRIVATE KEY block
            String key = tls.key().toString();
            if (alg.equals("rsa")) {
                openssl(alg, "-traditional", "-in", key, "-out", key, "-aes256", "-passout", "pass:x");
            } else {
                openssl(alg, "-in", key, "-out", key, "-aes256", "-passout", "pass:x");
            }
            assertTrue(Files.readString(tls.key()).contains("Proc-Type: 4,ENCRYPTED"), Files.readString(tls.key()));
            TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
            assertTrue(e.getMessage().startsWith(tls.key() + ": the key is encrypted"), e.getMessage());
        }
    }

    @Test
    void aMissingOrBrokenCertificateFileIsAConfigError() throws Exception {
        Pair p = generate("EC", "chain.example");
        TlsConfig tls = write(p, traditional(p.keys().getPrivate()), "EC PRIVATE KEY");
        Files.writeString(tls.cert(), "not a certificate\n");
        TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.cert().toString()), e.getMessage());
        String whole = pem("CERTIFICATE", p.cert().getEncoded());
        Files.writeString(tls.cert(), whole.substring(0, whole.length() / 2));
        e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.cert().toString()), e.getMessage());
        Files.delete(tls.cert());
        e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.cert() + ": cannot read"), e.getMessage());
    }

    private static void assertKeyRefused(TlsConfig tls, String why) {
        TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(tls));
        assertTrue(e.getMessage().startsWith(tls.key() + ": " + why), e.getMessage());
        assertTrue(e.getMessage().contains("PKCS#8"), e.getMessage());
    }

    private static Pair generate(String alg, String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        if (alg.equals("EC")) {
            g.initialize(new ECGenParameterSpec("secp256r1"));
        } else if (alg.equals("RSA")) {
            g.initialize(2048);
        }
        KeyPair keys = g.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=" + cn);
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(30, ChronoUnit.DAYS)), name,
                keys.getPublic());
        var signer = new JcaContentSignerBuilder(alg.equals("EC") ? "SHA256withECDSA"
                : alg.equals("RSA") ? "SHA256withRSA" : alg)
                .build(keys.getPrivate());
        return new Pair(new JcaX509CertificateConverter().getCertificate(builder.build(signer)), keys);
    }

    /** The key in openssl's traditional forms: PKCS#1 for RSA, SEC1 with its named curve for EC. */
    private static String traditional(PrivateKey key) throws Exception {
        if (key.getAlgorithm().equals("EC")) {
            // The JDK's PKCS#8 carries the curve only in the algorithm; openssl's SEC1 repeats it in [0].
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
            ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
            return pem("EC PRIVATE KEY", new ECPrivateKey(256, inner.getKey(),
                    info.getPrivateKeyAlgorithm().getParameters()).getEncoded());
        }
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(key);
        }
        return out.toString();
    }

    private TlsConfig write(Pair p, String keyText, String expectedType) throws Exception {
        if (expectedType != null) {
            assertTrue(keyText.contains("-----BEGIN " + expectedType + "-----\n"), keyText);
        }
        Path sub = Files.createTempDirectory(dir, "pair");
        Files.writeString(sub.resolve("fullchain.pem"), pem("CERTIFICATE", p.cert().getEncoded()));
        Files.writeString(sub.resolve("privkey.pem"), keyText);
        return new TlsConfig(sub.resolve("fullchain.pem"), sub.resolve("privkey.pem"));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] parseBlock(String pem) {
        String body = pem.substring(pem.indexOf("-----\n") + 6, pem.indexOf("-----END"));
        return Base64.getMimeDecoder().decode(body);
    }

    /** Runs a client and the server context's engine against each other in memory; the served subject. */
    private static String handshake(SslContext server, X509Certificate trusted) throws Exception {
        return TlsWarmUp.handshake(server, trusted);
    }
}
