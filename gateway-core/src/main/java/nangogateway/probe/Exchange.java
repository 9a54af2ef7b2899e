package nangogateway.probe;

/** What came back for one probe request, before it is judged. */
public sealed interface Exchange {
    /**
     * A final response head (1xx other than 101 skipped), and the start of its body: what was reached is read from
     * them (see {@link Reached}).
     *
     * @param closed      the server announced {@code Connection: close} or closed the connection after the
     *                    response; only measured for framing attacks, false otherwise
     * @param location    the {@code Location} header, or null
     * @param contentType the {@code Content-Type} header, or null
     * @param body        the first bytes of the body (at most {@link ResponseReader#MAX_BODY}, ISO-8859-1
     *                    characters = bytes); empty when there is none or it did not arrive in time
     */
    record Answered(int status, boolean closed, String location, String contentType, String body)
            implements Exchange {
        public Answered(int status, boolean closed, String location) {
            this(status, closed, location, null, "");
        }

        /** The media type in lower case without parameters ({@code application/json}), or empty. */
        public String mediaType() {
            if (contentType == null) {
                return "";
            }
            int semicolon = contentType.indexOf(';');
            return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim()
                    .toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The connection closed or was reset before any response byte: the server dropped the request. */
    record Dropped(String how) implements Exchange {
    }

    /** Nothing, or only part of a response, within the timeout. */
    record Silent(String how) implements Exchange {
    }

    /** The bytes that came back are not an HTTP/1.x response (the first of them are in {@code how}). */
    record Garbled(String how) implements Exchange {
    }

    /** The connection (or the TLS handshake) could not be made, so the request was never sent. */
    record Unreachable(String how) implements Exchange {
    }
}
