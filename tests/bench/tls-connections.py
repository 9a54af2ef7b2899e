#!/usr/bin/env python3
"""Resident memory a gateway process spends per idle TLS connection.

    tests/bench/tls-connections.py N PORT PID

Opens N TLS connections to 127.0.0.1:PORT (ALPN http/1.1, any certificate), sends one request on each and reads its
answer, waits 2 s, and prints the RSS of process PID before and after, and the difference per connection. The
listener must allow N connections from one address (max_connections_per_client). Start the gateway with
-Dnangogateway.tls=jdk to measure the JDK's TLS instead of BoringSSL.
"""
import resource
import socket
import ssl
import sys
import time


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no process {pid}")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    n, port, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    before = rss_mib(pid)
    socks = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) for _ in range(n)]
    for s in socks:
        s.sendall(b"GET /api/v1/account HTTP/1.1\r\nHost: bench\r\n\r\n")
    for s in socks:
        s.recv(4096)
    time.sleep(2)
    after = rss_mib(pid)
    print(f"{n} TLS connections: RSS {before:.1f} -> {after:.1f} MiB"
          f" ({(after - before) * 1024 / n:.1f} KiB per connection)")


if __name__ == "__main__":
    main()
