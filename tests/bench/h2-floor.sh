#!/usr/bin/env bash
# What HTTP/2 costs per request, layer by layer: nginx, bare Netty (tests/bench/H2Floor.java) and the gateway, all
# answering the same 403 over TLS, over HTTP/1.1 and HTTP/2, side by side in one run.
#
#   tests/bench/h2-floor.sh                  # 3 rounds of 6 s per case (~8 minutes)
#   ROUNDS=5 DURATION=8 tests/bench/h2-floor.sh
#
# Servers (all TLS 1.3, one self-signed P-256 certificate, ALPN h2 and http/1.1):
#   nginx        2 workers, `return 403`, http2 on                                            127.0.0.1:18450
#   codec        Netty's HTTP/2 frame codec answering on the connection (no stream channel)    127.0.0.1:18451
#   mux          frame codec + stream multiplexer, one handler per stream channel               127.0.0.1:18452
#   mux12        the same with 12 more handlers per stream handing every event on (the gateway's count)
#                                                                                               127.0.0.1:18453
#   gateway      the gateway, its denied path, started by the package's launcher with the
#                service's JVM options (as tests/bench/h2.sh)                                   127.0.0.1:18454
# (Netty's HTTP/1.1 answer comes from the same H2Floor process as "codec".)
# Cases: h1 (64 connections, one request at a time), h2 with 1 stream per connection (64 connections) and 100
# streams per connection (8 connections); `h2load -t2`. For each: requests/s and the server's CPU time per request
# (user + system, from /proc, all of the server's processes), medians over the rounds; the server order rotates
# each round. CPU per request is the figure that carries over to the proxied path: a proxy's HTTP/2 front costs
# its "h2 - h1" difference on top of what its HTTP/1.1 path costs.
# Results: tests/bench/out/h2-floor-results.txt.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
OUT_DIR=$BENCH_DIR/out
CLI_JAR=$ROOT/gateway-cli/target/nango-gateway.jar
JVM_OPTS_FILE=${JVM_OPTS_FILE:-$ROOT/packaging/src/deb/etc/default-nango-gateway}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-15}
JAVA=${JAVA:-java}
PATH_DENIED=/api/v1/account
SERVERS=(nginx codec mux mux12 gateway)
declare -A PORT=([nginx]=18450 [codec]=18451 [mux]=18452 [mux12]=18453 [gateway]=18454)
# case name, h2load protocol flag, connections, streams per connection
CASES=("h1 --h1 64 1" "h2-1-stream --npn-list=h2 64 1" "h2-100-streams --npn-list=h2 8 100")

BENCH_TAG=h2-floor
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"

WORK=$(mktemp -d /tmp/nango-h2floor.XXXXXX)
PIDS=()
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do timeout 40 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt_install_missing "nginx nginx" "h2load nghttp2-client"
if [ ! -f "$CLI_JAR" ]; then
    (cd "$ROOT" && mvn -B -q package -DskipTests) || die "build failed"
fi
for s in "${SERVERS[@]}"; do
    if port_open "${PORT[$s]}"; then die "port ${PORT[$s]} is already in use"; fi
done
mkdir -p "$OUT_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.example \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# ---------------------------------------------------------------------------------------------- servers
declare -A SPID=()   # the process whose CPU is counted (nginx: its master; its workers are found below)
mkdir -p "$WORK/nginx/tmp"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    access_log off;
    server_tokens off;
    server {
        listen 127.0.0.1:${PORT[nginx]} ssl http2 backlog=4096;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        location / { return 403; }
    }
}
EOF
nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" & PIDS+=("$!")
SPID[nginx]=$!
wait_port "${PORT[nginx]}" "$!" nginx

for mode in codec mux mux12; do
    arg=$mode
    [ "$mode" = mux12 ] && arg=mux:12
    "$JAVA" -Xms32m -Xmx128m -Xmn16m -XX:+UseSerialGC -cp "$CLI_JAR" "$BENCH_DIR/H2Floor.java" "$arg" \
        "${PORT[$mode]}" "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/$mode.log" 2>&1 & PIDS+=("$!")
    SPID[$mode]=$!
    wait_port "${PORT[$mode]}" "$!" "H2Floor $mode"
done

cat > "$WORK/gateway.yaml" <<EOF
upstreams:
  nango:
    url: http://127.0.0.1:9
listeners:
  - name: public
    bind: 127.0.0.1:${PORT[gateway]}
    tls: { cert: $WORK/cert.pem, key: $WORK/key.pem }
    routes:
      - name: oauth-callback
        path: /oauth/callback
        methods: [GET]
        proxy: { upstream: nango }
    otherwise:
      status: 403
EOF
JAVA_OPTS=$(service_java_opts "$JVM_OPTS_FILE" "$BENCH_DIR/logback-bench.xml")
JAVA_OPTS="$JAVA_OPTS" NANGO_GATEWAY_JAR="$CLI_JAR" NANGO_GATEWAY_JAVA="$JAVA" NANGO_GATEWAY_CDS=off \
    "$ROOT/packaging/src/deb/bin/nango-gateway" run --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 &
SPID[gateway]=$! # the launcher execs java
PIDS=("$!" "${PIDS[@]}")
wait_port "${PORT[gateway]}" "$!" gateway

for s in "${SERVERS[@]}"; do
    for proto in --http1.1 --http2; do
        got=$(curl -sk $proto -o /dev/null -w '%{http_version} %{http_code}' "https://127.0.0.1:${PORT[$s]}$PATH_DENIED")
        want="2 403"
        [ "$proto" = --http1.1 ] && want="1.1 403"
        [ "$got" = "$want" ] || die "$s answered '$got' to curl $proto, expected '$want'"
    done
done

cpu_ticks() {     # cpu_ticks SERVER: user + system clock ticks of the server's processes (nginx: its workers)
    local pids=${SPID[$1]} t=0 p
    kill -0 "${SPID[$1]}" 2>/dev/null || die "$1 (pid ${SPID[$1]}) is gone"
    [ "$1" = nginx ] && pids=$(pgrep -P "${SPID[nginx]}" | tr '\n' ' ')
    [ -n "$pids" ] || die "$1 has no worker process"
    for p in $pids; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo "$t"
}
RPS=""; US=""
run_case() {      # run_case SERVER PROTO-FLAG CONNS STREAMS SECONDS -> RPS, US (CPU us per request)
    local before after out
    before=$(cpu_ticks "$1")
    out=$(h2load -t2 "$2" -c"$3" -m"$4" -D "$5" "https://127.0.0.1:${PORT[$1]}$PATH_DENIED" 2>&1) \
        || die "h2load on $1 failed: $(tail -3 <<< "$out")"
    after=$(cpu_ticks "$1")
    RPS=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<< "$out")
    local done4xx done
    done=$(awk '/^requests:/ {print $6}' <<< "$out") # requests done (answered)
    done4xx=$(awk '/^status codes:/ {print $7}' <<< "$out")
    [ "${done:-0}" -gt 0 ] || die "$1: h2load got no answer: $(tail -3 <<< "$out")"
    [ "$done4xx" = "$done" ] || log "WARNING $1: $done4xx of $done answers were 4xx"
    # No h2load warm-up here: every request it made counts against the CPU the server spent.
    US=$(awk -v t=$((after - before)) -v n="$done" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
}

log "warm-up: $WARMUP s per server and protocol"
for s in "${SERVERS[@]}"; do
    run_case "$s" --h1 64 1 "$WARMUP"
    run_case "$s" --npn-list=h2 64 1 "$WARMUP"
done

declare -A R=()
for ((round = 1; round <= ROUNDS; round++)); do
    order=("${SERVERS[@]:round % ${#SERVERS[@]}}" "${SERVERS[@]:0:round % ${#SERVERS[@]}}")
    for c in "${CASES[@]}"; do
        read -r name flag conns streams <<< "$c"
        for s in "${order[@]}"; do
            run_case "$s" "$flag" "$conns" "$streams" "$DURATION"
            R[$s,$name,rps]+="$RPS "
            R[$s,$name,us]+="$US "
        done
    done
    log "round $round/$ROUNDS done"
done

{
    echo "403 over TLS, h2load -t2 -D $DURATION, $ROUNDS rounds (order rotating), $(nproc) cores, $(date -u +%F)"
    echo "Java: $($JAVA -version 2>&1 | head -1); nginx $(nginx -v 2>&1 | sed 's/.*\///')"
    for mode in codec mux mux12; do echo "H2Floor $(grep -m1 '^ready:' "$WORK/$mode.log")"; done
    echo "gateway $(grep -m1 -o 'ready: .*' "$WORK/gateway.log")"
    printf '%-10s' server
    for c in "${CASES[@]}"; do read -r name _ <<< "$c"; printf ' %24s' "$name: req/s, us"; done
    printf ' %14s %14s\n' "h2-1 - h1 us" "h2-100 - h1 us"
    for s in "${SERVERS[@]}"; do
        printf '%-10s' "$s"
        declare -A M=()
        for c in "${CASES[@]}"; do
            read -r name _ <<< "$c"
            read -r -a rps <<< "${R[$s,$name,rps]}"
            read -r -a us <<< "${R[$s,$name,us]}"
            M[$name]=$(median "${us[@]}")
            printf ' %16.0f %7.1f' "$(median "${rps[@]}")" "${M[$name]}"
        done
        printf ' %14.1f %14.1f\n' "$(awk -v a="${M[h2-1-stream]}" -v b="${M[h1]}" 'BEGIN { print a - b }')" \
            "$(awk -v a="${M[h2-100-streams]}" -v b="${M[h1]}" 'BEGIN { print a - b }')"
        unset M
    done
    echo "us = the server's CPU time (user + system) per request; median of the rounds."
} | tee "$OUT_DIR/h2-floor-results.txt"
