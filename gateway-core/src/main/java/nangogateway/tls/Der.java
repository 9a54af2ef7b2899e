package nangogateway.tls;

import java.io.ByteArrayOutputStream;

/** The little DER needed to wrap PKCS#1 and SEC1 private keys into PKCS#8. */
final class Der {
    private Der() {
    }

    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        return sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, tlv(0x04, pkcs1)));
    }

    /** SEC1 {@code ECPrivateKey} carries its curve in the [0] parameters; PKCS#8 wants it in the algorithm. */
    static byte[] sec1ToPkcs8(byte[] sec1) {
        byte[] curve = findCurveOid(sec1);
        byte[] algorithm = sequence(concat(EC_PUBLIC_KEY_OID, curve));
        return sequence(concat(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, sec1)));
    }

    private static byte[] findCurveOid(byte[] sec1) {
        // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters OID, [1] publicKey }
        int[] pos = {0};
        readHeader(sec1, pos, 0x30);
        skip(sec1, pos); // version
        skip(sec1, pos); // private key
        if (pos[0] < sec1.length && (sec1[pos[0]] & 0xff) == 0xa0) {
            readHeader(sec1, pos, 0xa0);
            int start = pos[0];
            skip(sec1, pos);
            byte[] oid = new byte[pos[0] - start];
            System.arraycopy(sec1, start, oid, 0, oid.length);
            return oid;
        }
        throw new IllegalArgumentException("EC key without curve parameters");
    }

    private static int readHeader(byte[] b, int[] pos, int expectedTag) {
        if ((b[pos[0]] & 0xff) != expectedTag) {
            throw new IllegalArgumentException("unexpected DER tag");
        }
        pos[0]++;
        return readLength(b, pos);
    }

    private static void skip(byte[] b, int[] pos) {
        pos[0]++;
        int len = readLength(b, pos);
        pos[0] += len;
    }

    private static int readLength(byte[] b, int[] pos) {
        int first = b[pos[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int n = first & 0x7f;
        int len = 0;
        for (int i = 0; i < n; i++) {
            len = (len << 8) | (b[pos[0]++] & 0xff);
        }
        return len;
    }

    private static byte[] sequence(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
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
}
