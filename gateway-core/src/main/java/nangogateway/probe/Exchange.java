package nangogateway.probe;

/** What came back for one probe request, before it is judged. */
public sealed interface Exchange {
    /**
     * A final response head (1xx other than 101 skipped).
     *
     * @param closed   the server announced {@code Connection: close} or closed the connection after the response;
     *                 only measured for framing attacks, false otherwise
     * @param location the {@code Location} header, or null
     */
    record Answered(int status, boolean closed, String location) implements Exchange {
    }

    /** The connection closed or was reset before any response byte: the server dropped the request. */
    record Dropped(String how) implements Exchange {
    }

    /** Nothing, or only part of a response, within the timeout. */
    record Silent(String how) implements Exchange {
    }

    /** The bytes that came back are not an HTTP/1.x response. */
    record Garbled(String how) implements Exchange {
    }

    /** The connection (or the TLS handshake) could not be made, so the request was never sent. */
    record Unreachable(String how) implements Exchange {
    }
}
