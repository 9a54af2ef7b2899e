package nangogateway.server;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/**
 * For a handler that answers requests itself on a keep-alive connection: the next request is read only once the
 * current one has been read to its end and its answer has been written, so a client that pipelines requests and
 * does not read the answers gets one at a time, never a growing queue of them. Used as the answer's write listener.
 */
final class NextRequestGate implements ChannelFutureListener {
    private final Runnable readNext;
    private boolean requestDone;
    private boolean responseDone;

    NextRequestGate(Runnable readNext) {
        this.readNext = readNext;
    }

    /** An answer is being written; {@code requestComplete}: nothing more of the request is left to read. */
    void answering(boolean requestComplete) {
        requestDone = requestComplete;
        responseDone = false;
    }

    /** The end of the request has been read. */
    void requestEnded() {
        requestDone = true;
        openIfBoth();
    }

    @Override
    public void operationComplete(ChannelFuture written) {
        if (!written.isSuccess()) {
            written.channel().close();
            return;
        }
        responseDone = true;
        openIfBoth();
    }

    private void openIfBoth() {
        if (requestDone && responseDone) {
            requestDone = false;
            responseDone = false;
            readNext.run();
        }
    }
}
