package nangogateway.tls;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * Reads an unencrypted PEM private key in the three forms certbot and openssl write: PKCS#8 {@code PRIVATE KEY},
 * PKCS#1 {@code RSA PRIVATE KEY} and SEC1 {@code EC PRIVATE KEY} (after an optional {@code EC PARAMETERS} block).
 * The two traditional forms are the PKCS#8 body without its algorithm header, so they are wrapped in one and every
 * key goes through the JDK's own {@link KeyFactory}.
 *
 * <p>Written here rather than taken from Bouncy Castle: with Bouncy Castle on the class path, Netty registers its
 * whole JCA provider the first time a server context is built, a quarter of a second of start-up and a few MiB of
 * class metadata for the one job of reading a key.
 */
final class PemKeys {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] RSA = HEX.parseHex("06092a864886f70d010101");       // 1.2.840.113549.1.1.1
    private static final byte[] EC = HEX.parseHex("06072a8648ce3d0201");             // 1.2.840.10045.2.1
    private static final byte[] NULL = {0x05, 0x00};
    /** A PKCS#8 key's algorithm (the DER of its OID, in hex) and the JDK's name for its key factory. */
    private static final Map<String, String> FACTORIES = Map.of(
            "06092a864886f70d010101", "RSA",
            "06092a864886f70d01010a", "RSASSA-PSS",
            "06072a8648ce3d0201", "EC",
            "06032b6570", "Ed25519",
            "06032b6571", "Ed448");

    private PemKeys() {
    }

    /** Why a key file is not usable: {@link #encrypted} tells the two answers apart. */
    static final class BadKey extends Exception {
        final boolean encrypted;
        final boolean absent;

        private BadKey(String message, boolean encrypted, boolean absent) {
            super(message);
            this.encrypted = encrypted;
            this.absent = absent;
        }
    }

    /** The first private key in the text; blocks of other kinds (certificates, parameters) are passed over. */
    static PrivateKey read(String text) throws BadKey {
        byte[] curve = null;
        int at = 0;
        while (true) {
            int begin = text.indexOf("-----BEGIN ", at);
            if (begin < 0) {
                throw new BadKey("no private key block", false, true);
            }
            int labelEnd = text.indexOf("-----", begin + 11);
            if (labelEnd < 0) {
                throw unreadable("a BEGIN line without its closing dashes");
            }
            String label = text.substring(begin + 11, labelEnd);
            String endLine = "-----END " + label + "-----";
            int end = text.indexOf(endLine, labelEnd);
            if (end < 0) {
                throw unreadable("no '" + endLine + "' line: the file is cut short");
            }
            String body = text.substring(labelEnd + 5, end);
            at = end + endLine.length();
            switch (label) {
                case "PRIVATE KEY" -> {
                    return fromPkcs8(decode(body));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new BadKey("encrypted", true, false);
                case "RSA PRIVATE KEY" -> {
                    return fromPkcs8(wrap(RSA, NULL, decode(plain(body))));
                }
                case "EC PRIVATE KEY" -> {
                    byte[] sec1 = decode(plain(body));
                    byte[] named = sec1Curve(sec1);
                    if (named == null && curve == null) {
                        throw unreadable("the EC key names no curve");
                    }
                    return fromPkcs8(wrap(EC, named != null ? named : curve, sec1));
                }
                case "EC PARAMETERS" -> curve = decode(body);
                default -> {
                    // a certificate or anything else kept in the same file
                }
            }
        }
    }

    /** A traditional block's body; one with {@code Proc-Type: 4,ENCRYPTED} headers is a locked key. */
    private static String plain(String body) throws BadKey {
        if (body.contains("Proc-Type:") || body.contains("DEK-Info:")) {
            throw new BadKey("encrypted", true, false);
        }
        return body;
    }

    private static byte[] decode(String body) throws BadKey {
        try {
            return Base64.getDecoder().decode(body.replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw unreadable("bad base64: " + e.getMessage());
        }
    }

    private static PrivateKey fromPkcs8(byte[] der) throws BadKey {
        Der outer = Der.at(der, 0, 0x30);
        if (outer.end() != der.length) {
            throw unreadable("bytes after the key");
        }
        Der version = Der.at(der, outer.start, 0x02);
        Der algorithm = Der.at(der, version.end(), 0x30);
        Der oid = Der.at(der, algorithm.start, 0x06);
        Der.at(der, algorithm.end(), 0x04);
        String factory = FACTORIES.get(HEX.formatHex(der, oid.offset, oid.end()));
        if (factory == null) {
            throw unreadable("a key of an algorithm TLS here does not use (" + HEX.formatHex(der, oid.offset,
                    oid.end()) + ")");
        }
        try {
            return KeyFactory.getInstance(factory).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw unreadable(e.getMessage());
        }
    }

    /** SEC1's {@code [0]} parameters (the curve's OID), or null when the key leaves them out. */
    private static byte[] sec1Curve(byte[] der) throws BadKey {
        Der outer = Der.at(der, 0, 0x30);
        if (outer.end() != der.length) {
            throw unreadable("bytes after the key");
        }
        Der version = Der.at(der, outer.start, 0x02);
        Der key = Der.at(der, version.end(), 0x04);
        if (key.end() < outer.end() && (der[key.end()] & 0xff) == 0xa0) {
            Der params = Der.at(der, key.end(), 0xa0);
            return Arrays.copyOfRange(der, params.start, params.end());
        }
        return null;
    }

    /** PKCS#8: {@code SEQUENCE { 0, SEQUENCE { algorithm, parameters }, OCTET STRING { key } }}. */
    private static byte[] wrap(byte[] algorithm, byte[] parameters, byte[] key) {
        byte[] header = tlv(0x30, concat(algorithm, parameters));
        return tlv(0x30, concat(new byte[] {0x02, 0x01, 0x00}, header, tlv(0x04, key)));
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static BadKey unreadable(String why) {
        return new BadKey(why, false, false);
    }

    /** One DER element: where its tag is ({@code offset}), where its content starts and how long it is. */
    private record Der(int offset, int start, int length) {
        int end() {
            return start + length;
        }

        /** The element at {@code offset}, which must have the tag given and lie wholly inside the bytes. */
        static Der at(byte[] der, int offset, int tag) throws BadKey {
            if (offset + 2 > der.length || (der[offset] & 0xff) != tag) {
                throw unreadable("malformed DER: expected tag " + Integer.toHexString(tag) + " at byte " + offset);
            }
            int first = der[offset + 1] & 0xff;
            int start = offset + 2;
            long length = first;
            if (first >= 0x80) {
                int bytes = first & 0x7f;
                if (bytes == 0 || bytes > 4 || start + bytes > der.length) {
                    throw unreadable("malformed DER length at byte " + (offset + 1));
                }
                length = 0;
                for (int i = 0; i < bytes; i++) {
                    length = (length << 8) | (der[start + i] & 0xff);
                }
                start += bytes;
            }
            if (start + length > der.length) {
                throw unreadable("malformed DER: the key is cut short");
            }
            return new Der(offset, start, (int) length);
        }
    }
}
