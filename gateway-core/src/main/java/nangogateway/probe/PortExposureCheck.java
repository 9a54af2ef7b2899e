package nangogateway.probe;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Does Nango's port answer on this host's non-loopback addresses? Nango must listen on 127.0.0.1 only (publish
 * {@code 127.0.0.1:3003:3003}, not {@code 3003:3003}): otherwise anyone who reaches the host skips the gateway
 * and its allowlist entirely. Run on the host itself; it only opens TCP connections, it sends nothing.
 */
public final class PortExposureCheck {
    public record HostAddress(String interfaceName, InetAddress address) {
        @Override
        public String toString() {
            String text = address.getHostAddress();
            int scope = text.indexOf('%'); // the interface is named separately
            return (scope < 0 ? text : text.substring(0, scope)) + " (" + interfaceName + ")";
        }
    }

    /** @param answering the addresses on which a TCP connection to the port succeeded */
    public record Report(int port, List<HostAddress> checked, List<HostAddress> answering) {
        public boolean exposed() {
            return !answering.isEmpty();
        }
    }

    private PortExposureCheck() {
    }

    /** Every address of every interface that is up, except loopback and wildcard addresses. */
    public static List<HostAddress> nonLoopbackAddresses() throws SocketException {
        List<HostAddress> found = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (!address.isLoopbackAddress() && !address.isAnyLocalAddress()) {
                    found.add(new HostAddress(nic.getName(), address));
                }
            }
        }
        return found;
    }

    public static Report check(List<HostAddress> addresses, int port, Duration timeout) {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        List<HostAddress> answering = new ArrayList<>();
        for (HostAddress a : addresses) {
            if (answers(a.address(), port, millis)) {
                answering.add(a);
            }
        }
        return new Report(port, List.copyOf(addresses), List.copyOf(answering));
    }

    private static boolean answers(InetAddress address, int port, int millis) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), millis);
            return true;
        } catch (IOException e) {
            return false; // refused, filtered or unroutable: not reachable there
        }
    }
}
