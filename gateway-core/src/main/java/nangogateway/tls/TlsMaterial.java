package nangogateway.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import nangogateway.config.TlsConfig;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Loads a listener's certificate chain and private key as certbot writes them (PEM full chain; PKCS#8, PKCS#1 RSA
 * or SEC1 EC key), checks that the key belongs to the certificate, and builds the server context: TLS 1.3 and 1.2
 * only, modern AEAD suites, ALPN {@code http/1.1}.
 */
public final class TlsMaterial {
    private static final String KINDS = "an unencrypted PEM key: PKCS#8 'PRIVATE KEY', PKCS#1 'RSA PRIVATE KEY' or"
            + " SEC1 'EC PRIVATE KEY' (any other: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)";

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

    public static Loaded load(TlsConfig config) throws TlsException {
        List<X509Certificate> chain = readChain(config.cert());
        PrivateKey key = readKey(config.key());
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new TlsException(config.key() + ": the private key does not belong to the certificate in "
                    + config.cert() + "; give the key that was issued with that certificate");
        }
        try {
            SslContext ctx = SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
                    .sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .ciphers(CIPHERS, io.netty.handler.ssl.SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
            return new Loaded(ctx, chain.get(0));
        } catch (IOException | RuntimeException e) {
            throw new TlsException(config.cert() + ": cannot build a TLS context: " + e.getMessage());
        }
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
        // PEMParser skips blocks it does not know and returns null at the end; "EC PARAMETERS" comes back as an OID.
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = pem.readObject(); o != null; o = pem.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
                    throw new TlsException(file + ": the key is encrypted; give the gateway an unencrypted key"
                            + " readable only by its user (openssl pkey -in KEY -out KEY.plain)");
                }
            }
        } catch (NoSuchFileException e) {
            throw new TlsException(file + ": cannot read: no such file");
        } catch (IOException | RuntimeException e) {
            // A truncated or corrupted file: BC reports a missing END line, bad base64 or malformed DER.
            throw new TlsException(file + ": not a readable PEM private key (" + e.getMessage() + "); expected the"
                    + " complete key file as written (certbot's privkey.pem), " + KINDS);
        }
        throw new TlsException(file + ": no private key block; expected " + KINDS);
    }

    static boolean matches(PrivateKey key, PublicKey pub) {
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
