package nangogateway.server;

import nangogateway.exchange.RequestFacts;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import nangogateway.config.Cidr;
import nangogateway.exchange.GatewaySnapshot;
import nangogateway.routing.RouteTable;

/**
 * Decides who the client is. Only when the socket peer is a trusted proxy is {@code X-Forwarded-For} believed,
 * and then the right-most address that is not itself trusted wins (nginx {@code real_ip_recursive on}). The
 * result is what the access log, rate limits and the {@code X-Forwarded-For} sent to Nango use. The trusted
 * proxies are those of the snapshot current at each request, so a reload that removes one applies to the
 * keep-alive connections it already has open.
 */
public final class ClientAddressHandler extends ChannelInboundHandlerAdapter {
    private final String listenerName;
    private final Supplier<GatewaySnapshot> snapshots;
    /** The snapshot {@link #trusted} was read from: a new list is looked up only after a reload. */
    private GatewaySnapshot seen;
    private List<Cidr> trusted = List.of();
    /** The socket peer's address text, computed once per connection. */
    private String peerText;
    private RequestFacts facts;

    public ClientAddressHandler(String listenerName, Supplier<GatewaySnapshot> snapshots) {
        this.listenerName = listenerName;
        this.snapshots = snapshots;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        facts = RequestFacts.of(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest r) {
            facts.clientAddress(resolve(ctx.channel().remoteAddress(), r));
        }
        ctx.fireChannelRead(msg);
    }

    /** The client of {@code r}, which came from the socket peer {@code remote}. */
    String resolve(SocketAddress remote, HttpRequest r) {
        if (!(remote instanceof InetSocketAddress peer)) {
            return "unknown";
        }
        InetAddress current = peer.getAddress();
        refreshTrusted();
        if (trusted.isEmpty() || !isTrusted(current) || r.decoderResult().isFailure()) {
            if (peerText == null) {
                peerText = current.getHostAddress();
            }
            return peerText;
        }
        List<String> hops = new ArrayList<>();
        for (String v : r.headers().getAll("X-Forwarded-For")) {
            for (String part : v.split(",")) {
                hops.add(part.trim());
            }
        }
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = parseLiteral(hops.get(i));
            if (hop == null) {
                break; // garbage in the chain: stop at the last address we could vouch for
            }
            current = hop;
            if (!isTrusted(hop)) {
                break;
            }
        }
        return current.getHostAddress();
    }

    private void refreshTrusted() {
        GatewaySnapshot now = snapshots.get();
        if (now != seen) {
            seen = now;
            RouteTable table = now.table(listenerName);
            trusted = table == null ? List.of() : table.listener().options().trustedProxies(); // removed: none
        }
    }

    private boolean isTrusted(InetAddress a) {
        for (Cidr c : trusted) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** An IP literal only (never a DNS lookup): IPv4 dotted quad or IPv6, optionally bracketed. */
    static InetAddress parseLiteral(String s) {
        String t = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        return Cidr.literal(t);
    }
}
