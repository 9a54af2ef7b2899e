package nangogateway.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import nangogateway.config.TlsConfig;

/**
 * Loads a listener's certificate chain and private key as certbot writes them (PEM full chain; PKCS#8, PKCS#1 RSA
 * or SEC1 EC key), checks that the key belongs to the certificate, and builds the server context: TLS 1.3 and 1.2
 * only, modern AEAD suites, ALPN {@code http/1.1}.
 */
public final class TlsMaterial {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

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
                    + config.cert());
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
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file)) {
                if (b.type().equals("CERTIFICATE")) {
                    chain.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (GeneralSecurityException e) {
            throw new TlsException(file + ": not a valid PEM certificate: " + e.getMessage());
        }
        if (chain.isEmpty()) {
            throw new TlsException(file + ": no '-----BEGIN CERTIFICATE-----' block (expected a PEM full chain)");
        }
        return chain;
    }

    static PrivateKey readKey(Path file) throws TlsException {
        for (Block b : blocks(file)) {
            try {
                switch (b.type()) {
                    case "PRIVATE KEY":
                        return pkcs8(b.der());
                    case "RSA PRIVATE KEY":
                        return KeyFactory.getInstance("RSA").generatePrivate(
                                new PKCS8EncodedKeySpec(Der.pkcs1ToPkcs8(b.der())));
                    case "EC PRIVATE KEY":
                        return KeyFactory.getInstance("EC").generatePrivate(
                                new PKCS8EncodedKeySpec(Der.sec1ToPkcs8(b.der())));
                    case "ENCRYPTED PRIVATE KEY":
                        throw new TlsException(file + ": the key is encrypted; give the gateway an unencrypted key"
                                + " readable only by its user");
                    default:
                        break;
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new TlsException(file + ": unreadable " + b.type() + ": " + e.getMessage());
            }
        }
        throw new TlsException(file + ": no private key block (expected PKCS#8 'PRIVATE KEY', PKCS#1 'RSA PRIVATE KEY'"
                + " or 'EC PRIVATE KEY')");
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        for (String alg : List.of("RSA", "EC", "Ed25519", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("unsupported key algorithm");
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

    private record Block(String type, byte[] der) {
    }

    private static List<Block> blocks(Path file) throws TlsException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TlsException(file + ": cannot read: " + e.getMessage());
        }
        List<Block> out = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new TlsException(file + ": bad base64 in a " + m.group(1) + " block");
            }
        }
        return out;
    }
}
