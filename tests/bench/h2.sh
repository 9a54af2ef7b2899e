#!/usr/bin/env bash
# HTTP/2 over TLS: nango-gateway vs nginx (http2 on), side by side, with h2load.
#
#   tests/bench/h2.sh                        # 5 rounds of 8 s per case (~8 minutes)
#   ROUNDS=3 DURATION=5 tests/bench/h2.sh
#   LOGS=on tests/bench/h2.sh                # both write every request to a file (as tests/bench/run.sh LOGS=on)
#
# The same set-up as tests/bench/run.sh, over HTTPS with ALPN h2 on both sides:
#   - one upstream standing in for Nango: nginx returning a fixed 200 with a 1 KiB body, 127.0.0.1:18013;
#   - nginx on 127.0.0.1:18443 (`listen ... ssl http2`), `location = /oauth/callback` proxied over a keep-alive
#     pool, 403 for everything else;
#   - the gateway on 127.0.0.1:18444 with the same allowlist, started by the package's launcher with the JVM options
#     the service runs with (packaging/src/deb/etc/default-nango-gateway);
#   - one self-signed P-256 certificate for both; TLS 1.3;
#   - cases: the allowed (proxied) and the denied path, each with 1 stream per connection (64 connections) and
#     100 concurrent streams per connection (8 connections); `h2load -t2 -D DURATION`;
#   - rounds alternate the two proxies (ABBA); the table gives the medians and the median of per-round ratios,
#     requests/s and p99 (from h2load's per-request log).
# Everything it starts is stopped on exit. Results: tests/bench/out/h2-results.txt (raw in out/raw-h2/).
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
OUT_DIR=$BENCH_DIR/out
RAW_DIR=$OUT_DIR/raw-h2
CLI_JAR=$ROOT/gateway-cli/target/nango-gateway.jar
JVM_OPTS_FILE=${JVM_OPTS_FILE:-$ROOT/packaging/src/deb/etc/default-nango-gateway}
LOGS=${LOGS:-off}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-20}
JAVA=${JAVA:-java}
UP_PORT=18013
NGINX_PORT=18443
GW_PORT=18444
ALLOWED_PATH='/oauth/callback?code=abc&state=xyz'
DENIED_PATH='/api/v1/account'
# case name, connections, streams per connection
CASES=("1-stream 64 1" "100-streams 8 100")

BENCH_TAG=h2
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"

WORK=$(mktemp -d /tmp/nango-h2bench.XXXXXX)
PIDS=()
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do timeout 40 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
    mkdir -p "$RAW_DIR"
    cp "$WORK"/*.log "$RAW_DIR/" 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------- tools
apt_install_missing "nginx nginx" "h2load nghttp2-client"
if [ ! -f "$CLI_JAR" ]; then
    (cd "$ROOT" && mvn -B -q package -DskipTests) || die "build failed"
fi
for p in "$UP_PORT" "$NGINX_PORT" "$GW_PORT"; do
    if port_open "$p"; then die "port $p is already in use"; fi
done
mkdir -p "$OUT_DIR" "$RAW_DIR"
rm -f "$RAW_DIR"/*

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.example \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# ---------------------------------------------------------------------------------------------- nginx: upstream + proxy
BODY=$(head -c 1024 /dev/zero | tr '\0' 'x')
nginx_conf() {   # nginx_conf DIR WORKERS HTTP-BLOCK
    mkdir -p "$1/tmp"
    cat > "$1/nginx.conf" <<EOF
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
$3
}
EOF
    nginx -t -q -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" || die "bad nginx config $1/nginx.conf"
}
nginx_conf "$WORK/up" 1 "    access_log off;
    server { listen 127.0.0.1:$UP_PORT backlog=4096; default_type text/html; location / { return 200 \"$BODY\"; } }"
nginx_conf "$WORK/px" 2 "    $([ "$LOGS" = on ] && echo "access_log $WORK/px/access.log combined;" || echo "access_log off;")
    server_tokens off;
    upstream nango { server 127.0.0.1:$UP_PORT; keepalive 64; keepalive_requests 1000000; keepalive_timeout 4s; }
    server {
        listen 127.0.0.1:$NGINX_PORT ssl http2 backlog=4096;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        location = /oauth/callback {
            if (\$request_method != GET) { return 405; }
            proxy_pass http://nango;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host 127.0.0.1:$UP_PORT;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$host;
        }
        location / { return 403; }
    }"
nginx -p "$WORK/up/" -c "$WORK/up/nginx.conf" -e "$WORK/up/error.log" & PIDS+=("$!")
wait_port "$UP_PORT" "$!" "upstream nginx"
nginx -p "$WORK/px/" -c "$WORK/px/nginx.conf" -e "$WORK/px/error.log" & PIDS+=("$!")
wait_port "$NGINX_PORT" "$!" "proxy nginx"

# ---------------------------------------------------------------------------------------------- the gateway
cat > "$WORK/gateway.yaml" <<EOF
upstreams:
  nango:
    url: http://127.0.0.1:$UP_PORT
    max_connections: 256
listeners:
  - name: public
    bind: 127.0.0.1:$GW_PORT
    tls: { cert: $WORK/cert.pem, key: $WORK/key.pem }
    routes:
      - name: oauth-callback
        path: /oauth/callback
        methods: [GET]
        proxy: { upstream: nango }
    otherwise:
      status: 403
EOF
LOGBACK=$BENCH_DIR/logback-bench.xml
[ "$LOGS" = on ] && LOGBACK=$ROOT/conf/logback.xml
JAVA_OPTS=$(service_java_opts "$JVM_OPTS_FILE" "$LOGBACK")
JAVA_OPTS="$JAVA_OPTS" NANGO_GATEWAY_JAR="$CLI_JAR" NANGO_GATEWAY_JAVA="$JAVA" NANGO_GATEWAY_CDS=off \
    "$ROOT/packaging/src/deb/bin/nango-gateway" run --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS=("$GW_PID" "${PIDS[@]}")
wait_port "$GW_PORT" "$GW_PID" "gateway"
log "gateway (pid $GW_PID) on :$GW_PORT, nginx on :$NGINX_PORT, upstream on :$UP_PORT; JAVA_OPTS=$JAVA_OPTS"

check() {        # check PORT PATH STATUS
    local got
    got=$(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code}' "https://127.0.0.1:$1$2")
    [ "$got" = "2 $3" ] || die "https://127.0.0.1:$1$2 answered '$got', expected '2 $3'"
}
for port in "$GW_PORT" "$NGINX_PORT"; do
    check "$port" "$ALLOWED_PATH" 200
    check "$port" "$DENIED_PATH" 403
done

RPS=""; P99=""
run_h2load() {   # run_h2load PORT PATH CONNS STREAMS SECONDS NAME -> RPS P99 (ms)
    local out=$RAW_DIR/$6.txt lf=$WORK/$6.reqlog
    h2load -t2 -c"$3" -m"$4" -D "$5" --warm-up-time=1 --log-file="$lf" "https://127.0.0.1:$1$2" > "$out" 2>&1 \
        || die "h2load failed: $(tail -3 "$out")"
    grep -q 'h2' <(grep -i 'application protocol' "$out") || die "$6: h2 was not negotiated: $(grep -i protocol "$out")"
    RPS=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' "$out")
    local done2xx total
    total=$(awk '/^requests:/ {print $6}' "$out") # done (h2load's 'succeeded' leaves out the 5xx)
    done2xx=$(awk '/^status codes:/ {print $3}' "$out")
    case "$2" in
        "$ALLOWED_PATH") [ "$done2xx" = "$total" ] || log "WARNING $6: $done2xx of $total answers were 2xx" ;;
        *) [ "${done2xx:-0}" = 0 ] || log "WARNING $6: $done2xx 2xx answers on the denied path" ;;
    esac
    P99=$(awk '{print $3}' "$lf" | sort -n | awk '{a[NR] = $1} END { i = int(NR * 0.99); if (i < 1) i = 1;
        printf "%.3f", a[i] / 1000 }')
    rm -f "$lf"
}

log "warm-up: ${WARMUP} s per path on the gateway, 5 s on nginx"
for path in "$ALLOWED_PATH" "$DENIED_PATH"; do
    run_h2load "$GW_PORT" "$path" 64 1 "$WARMUP" warmup-gateway
    run_h2load "$NGINX_PORT" "$path" 64 1 5 warmup-nginx
done

declare -A R=()
for ((round = 1; round <= ROUNDS; round++)); do
    order=(gateway nginx)
    (( round % 2 == 0 )) && order=(nginx gateway)
    for c in "${CASES[@]}"; do
        read -r name conns streams <<< "$c"
        for kind in allowed denied; do
            path=$ALLOWED_PATH
            [ "$kind" = denied ] && path=$DENIED_PATH
            for who in "${order[@]}"; do
                port=$GW_PORT
                [ "$who" = nginx ] && port=$NGINX_PORT
                run_h2load "$port" "$path" "$conns" "$streams" "$DURATION" "r$round-$who-$kind-$name"
                R[$who,$kind,$name,rps]+="$RPS "
                R[$who,$kind,$name,p99]+="$P99 "
                sleep 1
            done
        done
    done
    log "round $round/$ROUNDS done"
done

{
    echo "HTTP/2 over TLS (h2load -t2 -D $DURATION, $ROUNDS rounds ABBA), logs $LOGS, $(nproc) cores, $(date -u +%F)"
    echo "gateway: $($JAVA -version 2>&1 | head -1), JAVA_OPTS from ${JVM_OPTS_FILE#$ROOT/}; nginx $(nginx -v 2>&1 | sed 's/.*\///')"
    printf '%-8s %-12s %14s %14s %8s %12s %12s %8s\n' path case "gateway rps" "nginx rps" ratio \
        "gw p99 ms" "nginx p99 ms" "p99 x"
    for kind in allowed denied; do
        for c in "${CASES[@]}"; do
            read -r name _ _ <<< "$c"
            read -r -a g <<< "${R[gateway,$kind,$name,rps]}"
            read -r -a n <<< "${R[nginx,$kind,$name,rps]}"
            read -r -a gp <<< "${R[gateway,$kind,$name,p99]}"
            read -r -a np <<< "${R[nginx,$kind,$name,p99]}"
            ratios=(); p99r=()
            for ((i = 0; i < ${#g[@]}; i++)); do
                ratios+=("$(awk -v a="${g[i]}" -v b="${n[i]}" 'BEGIN { printf "%.3f", a / b }')")
                p99r+=("$(awk -v a="${gp[i]}" -v b="${np[i]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
            done
            printf '%-8s %-12s %14.0f %14.0f %8s %12s %12s %8s\n' "$kind" "$name" "$(median "${g[@]}")" \
                "$(median "${n[@]}")" "$(median "${ratios[@]}")" "$(median "${gp[@]}")" "$(median "${np[@]}")" \
                "$(median "${p99r[@]}")"
            echo "    per-round ratios: ${ratios[*]}"
        done
    done
    echo "gateway RSS at the end: $(( $(awk '{print $2}' "/proc/$GW_PID/statm") * $(getconf PAGESIZE) / 1048576 )) MiB"
} | tee "$OUT_DIR/h2-results.txt"
