#!/usr/bin/env bash
# Availability under slow-HTTP attacks: the gateway and nginx side by side, in front of the same stand-in Nango.
#
#   tests/bench/slow-http.sh                 # slowloris, slow body, slow read; 2,000 connections, 40 s each
#   CONNS=500 LENGTH=20 ATTACKS="body" tests/bench/slow-http.sh
#
# For each proxy and each attack, slowhttptest (Debian's package) opens CONNS connections at 500 a second from
# loopback and keeps them slow for LENGTH seconds, while a separate client polls an allowed route
# (GET /oauth/callback) every 100 ms with a 2 s timeout. Availability is the share of polls answered 200. Neither
# proxy has a per-client connection limit here (the poller shares the attacker's address), so what is measured is
# what each proxy does with the slow connections themselves:
#   slowloris  headers trickled forever           (-H; the header timeout)
#   body       a webhook POST body trickled       (-B -s 65536 -i 10; request buffering, the minimum body rate)
#   read       a 4 MiB response read slowly       (-X; response buffering; BIG_MIB=16 for a larger one)
# Loopback only; installs nginx and slowhttptest with apt when they are missing; stops everything it started.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
WORK=$(mktemp -d /tmp/nango-gateway-slow-http.XXXXXX)
CLI_JAR=$ROOT/gateway-cli/target/nango-gateway.jar
CONNS=${CONNS:-2000}
LENGTH=${LENGTH:-40}
ATTACKS=${ATTACKS:-"slowloris body read"}
UP_PORT=18013
NGINX_PORT=18090
GW_PORT=18091
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  [ -f "$WORK/up.pid" ] && kill "$(cat "$WORK/up.pid")" 2>/dev/null || true
  [ -f "$WORK/proxy.pid" ] && kill "$(cat "$WORK/proxy.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
need nginx nginx
need slowhttptest slowhttptest
need curl curl
[ -f "$CLI_JAR" ] || (cd "$ROOT" && mvn -B -q -o package -DskipTests)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"   # 2,000 slow connections need a few thousand descriptors

head -c $((${BIG_MIB:-4} * 1024 * 1024)) /dev/zero | tr '\0' 'b' > "$WORK/big"
cat > "$WORK/up.conf" <<EOF
worker_processes 1;
pid $WORK/up.pid;
error_log $WORK/up-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$UP_PORT;
    keepalive_requests 1000000;
    location = /big { alias $WORK/big; }
    location / { return 200 "stand-in Nango\n"; }
  }
}
EOF
cat > "$WORK/proxy.conf" <<EOF
worker_processes 2;
pid $WORK/proxy.pid;
error_log $WORK/proxy-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  upstream nango { server 127.0.0.1:$UP_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /oauth/callback { proxy_pass http://nango; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location ~ ^/webhook/[^/]+/[^/]+$ { proxy_pass http://nango; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location = /big { proxy_pass http://nango; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location / { return 403; }
  }
}
EOF
cat > "$WORK/gateway.yaml" <<EOF
upstreams:
  nango: {url: "http://127.0.0.1:$UP_PORT", max_connections: 128}
listeners:
  - name: public
    bind: 127.0.0.1:$GW_PORT
    max_connections: 20000
    routes:
      - {name: oauth-callback, path: /oauth/callback, methods: [GET], proxy: {upstream: nango}}
      - {name: webhooks, path: '/webhook/{env}/{provider}', methods: [POST], proxy: {upstream: nango}}
      - {name: big, path: /big, methods: [GET], proxy: {upstream: nango}}
EOF

nginx -c "$WORK/up.conf"
nginx -c "$WORK/proxy.conf"
java -Xms256m -Xmx256m -XX:MaxDirectMemorySize=256m -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError \
  -Dlogback.configurationFile="$BENCH_DIR/logback-bench.xml" -Djava.io.tmpdir="$WORK" \
  -jar "$CLI_JAR" run --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/oauth/callback" && break; sleep 0.1; done

# Polls the allowed route every 100 ms for $1 seconds; prints "answered total".
poll() {
  local port=$1 seconds=$2 ok=0 total=0 code end
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/oauth/callback?code=x&state=y" || true)
    total=$((total + 1))
    [ "$code" = 200 ] && ok=$((ok + 1))
    sleep 0.1
  done
  echo "$ok $total"
}

attack() {
  local kind=$1 port=$2
  case $kind in
    slowloris) slowhttptest -H -c "$CONNS" -r 500 -i 10 -l "$LENGTH" -u "http://127.0.0.1:$port/oauth/callback" ;;
    body) slowhttptest -B -c "$CONNS" -r 500 -i 10 -s 65536 -t POST -l "$LENGTH" \
        -u "http://127.0.0.1:$port/webhook/prod/github" ;;
    read) slowhttptest -X -c "$CONNS" -r 500 -w 512 -y 1024 -n 5 -z 32 -k 1 -l "$LENGTH" \
        -u "http://127.0.0.1:$port/big" ;;
  esac
}

printf '%-10s %-8s %s\n' attack proxy availability
for kind in $ATTACKS; do
  for proxy in gateway nginx; do
    port=$([ $proxy = gateway ] && echo $GW_PORT || echo $NGINX_PORT)
    attack "$kind" "$port" > "$WORK/$kind-$proxy.txt" 2>&1 &
    apid=$!
    sleep 5 # let the attack open its connections
    read -r ok total < <(poll "$port" $((LENGTH - 10)))
    wait "$apid" || true
    # The attack's own view, at its busiest: how many slow connections it held open at once.
    held=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$kind-$proxy.txt" | awk '/connected:/ { if ($2 + 0 > m) m = $2 + 0 } END { print m + 0 }')
    printf '%-10s %-8s %6.2f %%  (%d of %d polls answered 200; attack held up to %d connections)\n' "$kind" \
      "$proxy" "$(awk -v o="$ok" -v t="$total" 'BEGIN { print t ? 100 * o / t : 0 }')" "$ok" "$total" "$held"
    sleep 3
  done
done
