#!/usr/bin/env bash
# nango-gateway vs nginx, side by side, on one machine.
#
#   tests/bench/run.sh                      # full run (~8 minutes)
#   ROUNDS=20 DURATION=15s tests/bench/run.sh
#   GC=auto tests/bench/run.sh              # G1-vs-Parallel trial first (default: parallel, as in the systemd unit)
#   TRANSPORT=epoll tests/bench/run.sh      # the gateway on a given transport (default: the fastest available)
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java tests/bench/run.sh   # the gateway on another JVM
#
# What it does:
#   - installs nginx and wrk with apt when missing (apt-get update once; no other network), builds the jar
#     when absent (mvn -o);
#   - one upstream standing in for Nango: nginx returning a fixed 200 with a 1 KiB body on any path,
#     127.0.0.1:18003, keep-alive; both proxies use this same upstream;
#   - nginx as the reverse proxy on 127.0.0.1:18080: `location = /oauth/callback` proxied with an upstream
#     keep-alive pool, 403 for everything else (the gateway's allowlist semantics for these two paths);
#   - the gateway on 127.0.0.1:18081 from tests/bench/bench.yaml, via `java -jar nango-gateway.jar run
#     --config tests/bench/bench.yaml`;
#   - LOGS=off (default): access logging is off on both sides: nginx `access_log off`, gateway logger
#     nangogateway.access OFF (tests/bench/logback-bench.xml);
#     LOGS=on: both write every request to a file, as in production: nginx its default `combined` access_log
#     (unbuffered), the gateway its shipped conf/logback.xml (the package's /etc/nango-gateway/logback.xml) with
#     stdout going to a file, as the journal would read it
#     (tests/bench/logback-bench.xml);
#   - optional short GC trial (G1 vs Parallel), JVM warm-up, then ALTERNATING rounds of
#     `wrk -t2 -c64 -d8s --latency`, each round both proxies back to back in ABBA order (gateway, nginx |
#     nginx, gateway | ...), on an allowed and a denied path;
#     the RSS of the proxy under test sampled in its rounds, the same way for both (shell builtins only:
#     a sampler that forks while a proxy is measured takes CPU from it);
#   - the table gives medians per proxy and the median of the per-round ratios (each round measures both
#     proxies back to back, so a ratio compares them on nearly the same machine state);
#   - prints the table and writes it to tests/bench/out/results.txt (raw wrk output in out/raw/).
# Everything it starts is stopped on exit.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
OUT_DIR=$BENCH_DIR/out
RAW_DIR=$OUT_DIR/raw
CONFIG=$BENCH_DIR/bench.yaml
LOGS=${LOGS:-off}
LOGBACK=$BENCH_DIR/logback-bench.xml
[ "$LOGS" = on ] && LOGBACK=$ROOT/conf/logback.xml
CLI_JAR=$ROOT/gateway-cli/target/nango-gateway.jar

UP_PORT=18003
NGINX_PORT=18080
GW_PORT=18081           # must match bench.yaml

THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-10}
WARMUP=${WARMUP:-20s}           # gateway warm-up per path (JIT); nginx gets NGINX_WARMUP per path
NGINX_WARMUP=${NGINX_WARMUP:-5s}
GC=${GC:-unit}                  # unit: the JVM options the installed service runs with (JVM_OPTS_FILE);
                                # parallel | g1: those of HEAP below; auto: short trial of G1 and Parallel
GC_TRIAL=${GC_TRIAL:-10s}
HEAP=${HEAP:-256m}              # -Xms/-Xmx/-XX:MaxDirectMemorySize with GC=parallel|g1
JVM_OPTS_FILE=${JVM_OPTS_FILE:-$ROOT/packaging/src/deb/etc/default-nango-gateway}   # /etc/default/nango-gateway
JAVA=${JAVA:-java}              # the JVM that runs the gateway
TRANSPORT=${TRANSPORT:-}        # io_uring | epoll | nio; empty: the gateway's default (fastest available)
PROXY_WORKERS=${PROXY_WORKERS:-2}
UP_WORKERS=${UP_WORKERS:-1}
PAUSE=${PAUSE:-1}               # seconds of rest between runs

ALLOWED_PATH='/oauth/callback?code=abc&state=xyz'
DENIED_PATH='/api/v1/account'

BENCH_TAG=bench
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------------------------------------- cleanup
WORK=$(mktemp -d /tmp/nango-bench.XXXXXX)
PIDS=()          # long-running children, stopped in reverse order on exit
GW_PID=""
SAMPLER_PID=""

stop_pid() {     # stop_pid PID [grace-seconds]
    local pid=$1 grace=${2:-15} i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid did not stop within ${grace}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    stop_pid "$SAMPLER_PID" 2
    stop_pid "$GW_PID" 40
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[i]}" 10
    done
    if [ -d "$WORK" ]; then
        mkdir -p "$RAW_DIR"
        for f in "$WORK"/gateway-*.log; do
            [ -f "$f" ] && cp "$f" "$RAW_DIR/" 2>/dev/null || true
        done
        for d in upstream proxy; do
            [ -f "$WORK/$d/error.log" ] && cp "$WORK/$d/error.log" "$RAW_DIR/nginx-$d-error.log" 2>/dev/null || true
        done
        if [ "${KEEP_WORK:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------- helpers
paired_ratios() { # paired_ratios "A1 A2 ..." "B1 B2 ...": A1/B1 A2/B2 ...
    awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= n; i++) printf "%.3f ", x[i] / y[i] }'
}

# wrk prints latencies as 850.00us / 1.23ms / 1.02s / 2.00m; normalise to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

RES_RPS=""; RES_P99=""; RES_TOTAL=""
parse_wrk() {    # parse_wrk FILE EXPECT(2xx|non2xx) -> RES_RPS RES_P99 (ms) RES_TOTAL; warns on errors
    local f=$1 expect=$2 total non2xx sockerr
    RES_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    RES_P99=$(to_ms "$(awk '$1 == "99%" && $2 ~ /[0-9]/ {print $2; exit}' "$f")")
    total=$(awk '/requests in/ {print $1; exit}' "$f")
    RES_TOTAL=$total
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
    non2xx=${non2xx:-0}
    sockerr=$(grep -m1 'Socket errors' "$f" || true)
    [ -n "$RES_RPS" ] || die "could not parse wrk output $f"
    if [ -n "$sockerr" ]; then log "WARNING $(basename "$f"): $sockerr"; fi
    if [ "$expect" = 2xx ] && [ "$non2xx" != 0 ]; then
        log "WARNING $(basename "$f"): $non2xx non-2xx responses on the allowed path"
    fi
    if [ "$expect" = non2xx ] && [ "$non2xx" != "$total" ]; then
        log "WARNING $(basename "$f"): only $non2xx of $total responses were non-2xx on the denied path"
    fi
}

run_wrk() {      # run_wrk PORT PATH DURATION OUTFILE
    wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency "http://127.0.0.1:$1$2" > "$4" 2>&1 \
        || die "wrk failed: $(cat "$4")"
}

rss_kb() {       # rss_kb PID...: their summed RSS in KiB, read with shell builtins only
    local total=0 pid pages
    for pid in "$@"; do
        if read -r _ pages _ < "/proc/$pid/statm" 2>/dev/null; then total=$((total + pages * PAGE_KB)); fi
    done
    echo "$total"
}

start_sampler() {   # start_sampler FILE PID...: rss_kb of the PIDs every 250 ms into FILE until stopped
    # Nothing here forks while a proxy is measured (a read that times out stands in for sleep): an earlier
    # `ps | tr` every 250 ms took CPU from the proxy under test, and it ran in the gateway's rounds only.
    local file=$1
    shift
    ( exec {tick}<> <(:)
      while kill -0 "$1" 2>/dev/null; do
          rss_kb "$@" >> "$file"
          read -t 0.25 -u "$tick" _ || true
      done ) &
    SAMPLER_PID=$!
}
stop_sampler() { stop_pid "$SAMPLER_PID" 2; SAMPLER_PID=""; }

cpu_ticks() {    # cpu_ticks PID...: user + system clock ticks of the PIDs (every thread), shell builtins only
    local total=0 pid stat
    for pid in "$@"; do
        if read -r stat < "/proc/$pid/stat" 2>/dev/null; then
            stat=${stat##*) }                       # after "pid (comm) ": state is field 1, utime 12, stime 13
            read -r -a f <<< "$stat"
            total=$((total + f[11] + f[12]))
        fi
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)
PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))

# ---------------------------------------------------------------------------------------------- 1. tools
apt_install_missing "nginx nginx" "wrk wrk"
command -v nginx >/dev/null || die "nginx not found"
command -v wrk >/dev/null || die "wrk not found"
command -v "$JAVA" >/dev/null || die "$JAVA not found"

if [ ! -f "$CLI_JAR" ]; then
    log "building the jar (mvn -B -q package -DskipTests)"
    (cd "$ROOT" && mvn -B -q package -DskipTests) || die "build failed"
fi

for p in "$UP_PORT" "$NGINX_PORT" "$GW_PORT"; do
    if port_open "$p"; then die "port $p is already in use"; fi
done
mkdir -p "$OUT_DIR" "$RAW_DIR"
rm -f "$RAW_DIR"/*.txt "$RAW_DIR"/*.log

# ---------------------------------------------------------------------------------------------- how to start the gateway
"$JAVA" -jar "$CLI_JAR" --version >/dev/null 2>&1 || die "$CLI_JAR does not run"
GW_MODE="cli: java -jar gateway-cli/target/nango-gateway.jar run --config tests/bench/bench.yaml"
[ "$GC" = unit ] && GW_MODE="packaging/src/deb/bin/nango-gateway (the service's launcher) run --config tests/bench/bench.yaml, this build's jar"
GW_CMD=(-jar "$CLI_JAR" run --config "$CONFIG")

jvm_flags() {    # jvm_flags unit|g1|parallel
    if [ "$1" = unit ]; then
        # What /usr/bin/nango-gateway gives the service, the bench's own logging configuration in place of /etc's.
        service_java_opts "$JVM_OPTS_FILE" "$LOGBACK" "${TRANSPORT:+-Dnangogateway.transport=$TRANSPORT}"
        return
    fi
    local gc=-XX:+UseG1GC
    [ "$1" = parallel ] && gc=-XX:+UseParallelGC
    echo "-server -Xms$HEAP -Xmx$HEAP -XX:MaxDirectMemorySize=$HEAP -XX:+ExitOnOutOfMemoryError $gc${TRANSPORT:+ -Dnangogateway.transport=$TRANSPORT} -Dlogback.configurationFile=$LOGBACK"
}

GW_SEQ=0
start_gateway() {   # start_gateway g1|parallel
    local flags
    flags=$(jvm_flags "$1")
    GW_SEQ=$((GW_SEQ + 1))
    if [ "$1" = unit ]; then
        # Through the package's launcher, as the service starts it (its environment included), on this build's jar;
        # the launcher execs java, so the PID is the JVM's. No class-data archive: there is no service cache here.
        JAVA_OPTS="$flags" NANGO_GATEWAY_JAR="$CLI_JAR" NANGO_GATEWAY_JAVA="$JAVA" NANGO_GATEWAY_CDS=off \
            "$ROOT/packaging/src/deb/bin/nango-gateway" run --config "$CONFIG" > "$WORK/gateway-$GW_SEQ-$1.log" 2>&1 &
    else
        # shellcheck disable=SC2086
        "$JAVA" $flags "${GW_CMD[@]}" > "$WORK/gateway-$GW_SEQ-$1.log" 2>&1 &
    fi
    GW_PID=$!
    wait_port "$GW_PORT" "$GW_PID" "gateway ($1)"
    # The JVM's own command line: the options above plus what the launcher adds (-XX:TrimNativeHeapInterval).
    GW_CMDLINE=$(tr '\0' ' ' < "/proc/$GW_PID/cmdline")
    log "gateway up (pid $GW_PID, $1)"
}
stop_gateway() { stop_pid "$GW_PID" 40; GW_PID=""; }

# ---------------------------------------------------------------------------------------------- 2+3. nginx
BODY=$(head -c 1024 /dev/zero | tr '\0' 'x')

write_nginx_common() {   # write_nginx_common DIR WORKERS
    mkdir -p "$1/tmp"
    cat <<EOF
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
EOF
}
temp_paths() {
    cat <<EOF
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
EOF
}

UPD=$WORK/upstream
mkdir -p "$UPD"
{
    write_nginx_common "$UPD" "$UP_WORKERS"
    cat <<EOF
http {
    access_log off;
$(temp_paths "$UPD")
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT backlog=4096;
        default_type text/html;
        location / { return 200 "$BODY"; }
    }
}
EOF
} > "$UPD/nginx.conf"

PXD=$WORK/proxy
mkdir -p "$PXD"
{
    write_nginx_common "$PXD" "$PROXY_WORKERS"
    cat <<EOF
http {
    $([ "$LOGS" = on ] && echo "access_log $PXD/access.log combined;" || echo "access_log off;")
$(temp_paths "$PXD")
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    server_tokens off;
    upstream nango {
        server 127.0.0.1:$UP_PORT;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 4s;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location = /oauth/callback {
            if (\$request_method != GET) { return 405; }
            proxy_pass http://nango;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:$UP_PORT;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }
        location / { return 403; }
    }
}
EOF
} > "$PXD/nginx.conf"

for d in "$UPD" "$PXD"; do
    nginx -t -q -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" || die "bad nginx config $d/nginx.conf"
done
nginx -p "$UPD/" -c "$UPD/nginx.conf" -e "$UPD/error.log" &
PIDS+=("$!")
wait_port "$UP_PORT" "$!" "upstream nginx"
nginx -p "$PXD/" -c "$PXD/nginx.conf" -e "$PXD/error.log" &
PIDS+=("$!")
NGINX_PX_PID=$!
wait_port "$NGINX_PORT" "$!" "proxy nginx"
log "upstream nginx on :$UP_PORT, proxy nginx on :$NGINX_PORT"

check() {        # check PORT PATH STATUS [BODY-BYTES]
    local got
    got=$(curl -s -o "$WORK/check.body" -w '%{http_code}' "http://127.0.0.1:$1$2" || true)
    [ "$got" = "$3" ] || die "GET 127.0.0.1:$1$2 answered $got, expected $3"
    if [ -n "${4:-}" ]; then
        [ "$(wc -c < "$WORK/check.body")" -eq "$4" ] || die "GET 127.0.0.1:$1$2: body is not $4 bytes"
    fi
}

# ---------------------------------------------------------------------------------------------- 4. GC trial
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A TRIAL=()
if [ "$GC" = auto ]; then
    for gc in g1 parallel; do
        start_gateway "$gc"
        check "$GW_PORT" "$ALLOWED_PATH" 200 1024
        run_wrk "$GW_PORT" "$ALLOWED_PATH" "$GC_TRIAL" "$RAW_DIR/gctrial-$gc-warm.txt"
        sleep "$PAUSE"
        run_wrk "$GW_PORT" "$ALLOWED_PATH" "$GC_TRIAL" "$RAW_DIR/gctrial-$gc-allowed.txt"
        parse_wrk "$RAW_DIR/gctrial-$gc-allowed.txt" 2xx
        TRIAL[$gc]=$RES_RPS
        log "GC trial $gc: allowed path ${RES_RPS} req/s (p99 ${RES_P99} ms) after ${GC_TRIAL} warm-up"
        stop_gateway
        sleep "$PAUSE"
    done
    if awk -v a="${TRIAL[g1]}" -v b="${TRIAL[parallel]}" 'BEGIN { exit !(b > a) }'; then GC=parallel; else GC=g1; fi
    GC_NOTE="GC trial (${GC_TRIAL} warm + ${GC_TRIAL} on the allowed path, fresh JVM each): G1 ${TRIAL[g1]} req/s, Parallel ${TRIAL[parallel]} req/s -> kept $GC"
else
    GC_NOTE="GC=$GC (unit: the options of ${JVM_OPTS_FILE#$ROOT/}, as the installed service runs; GC=auto runs a G1-vs-Parallel trial first)"
fi

# ---------------------------------------------------------------------------------------------- 5. warm-up + rounds
start_gateway "$GC"
check "$GW_PORT" "$ALLOWED_PATH" 200 1024
check "$GW_PORT" "$DENIED_PATH" 403
check "$NGINX_PORT" "$ALLOWED_PATH" 200 1024
check "$NGINX_PORT" "$DENIED_PATH" 403
IDLE_RSS_KB=$(rss_kb "$GW_PID")
# shellcheck disable=SC2207
NGINX_PX_PIDS=("$NGINX_PX_PID" $(pgrep -P "$NGINX_PX_PID"))   # master + workers, sampled like the gateway
NGINX_RSS_FILE=$WORK/nginx-rss.samples
: > "$NGINX_RSS_FILE"

RSS_FILE=$WORK/rss.samples
: > "$RSS_FILE"
log "warm-up: gateway ${WARMUP} per path, nginx ${NGINX_WARMUP} per path"
start_sampler "$RSS_FILE" "$GW_PID"
run_wrk "$GW_PORT" "$ALLOWED_PATH" "$WARMUP" "$RAW_DIR/warmup-gateway-allowed.txt"
run_wrk "$GW_PORT" "$DENIED_PATH" "$WARMUP" "$RAW_DIR/warmup-gateway-denied.txt"
stop_sampler
run_wrk "$NGINX_PORT" "$ALLOWED_PATH" "$NGINX_WARMUP" "$RAW_DIR/warmup-nginx-allowed.txt"
run_wrk "$NGINX_PORT" "$DENIED_PATH" "$NGINX_WARMUP" "$RAW_DIR/warmup-nginx-denied.txt"
sleep "$PAUSE"

declare -A RPS=() P99=() CPU=()   # key: "<proxy> <path-kind>" -> space-separated per-round values
for ((r = 1; r <= ROUNDS; r++)); do
    for kind in allowed denied; do
        if [ "$kind" = allowed ]; then path=$ALLOWED_PATH; expect=2xx; else path=$DENIED_PATH; expect=non2xx; fi
        # ABBA order (gateway first in odd rounds, nginx first in even ones), so a machine that speeds up or
        # slows down over a round favours neither.
        order="gateway nginx"
        [ $((r % 2)) = 0 ] && order="nginx gateway"
        for proxy in $order; do
            # Both proxies are sampled the same way in their rounds, so the sampler's small cost falls on both.
            if [ "$proxy" = gateway ]; then
                port=$GW_PORT; start_sampler "$RSS_FILE" "$GW_PID"
            else
                port=$NGINX_PORT; start_sampler "$NGINX_RSS_FILE" "${NGINX_PX_PIDS[@]}"
            fi
            f=$RAW_DIR/round$r-$proxy-$kind.txt
            if [ "$proxy" = gateway ]; then pids=("$GW_PID"); else pids=("${NGINX_PX_PIDS[@]}"); fi
            t0=$(cpu_ticks "${pids[@]}")
            run_wrk "$port" "$path" "$DURATION" "$f"
            t1=$(cpu_ticks "${pids[@]}")
            stop_sampler
            kill -0 "$GW_PID" 2>/dev/null || die "the gateway died (see out/raw/*gateway*.log)"
            parse_wrk "$f" "$expect"
            RPS["$proxy $kind"]+="$RES_RPS "
            P99["$proxy $kind"]+="$RES_P99 "
            cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$RES_TOTAL" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
            CPU["$proxy $kind"]+="$cpu "
            log "round $r/$ROUNDS $kind $proxy: $RES_RPS req/s, p99 $RES_P99 ms, $cpu us CPU/request"
            sleep "$PAUSE"
        done
    done
done
MAX_RSS_KB=$(sort -n "$RSS_FILE" | tail -1)
NGINX_MAX_RSS_KB=$(sort -n "$NGINX_RSS_FILE" | tail -1)

# ---------------------------------------------------------------------------------------------- 6. table
{
    echo "nango-gateway vs nginx reverse proxy — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -r)"
    echo "NOTE: wrk, the upstream nginx, the proxy under test all share these $(nproc) cores;"
    echo "      read the numbers as a relative comparison, not as either proxy's capacity."
    echo "      load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg) (anything else running"
    echo "      on the machine, e.g. a build, disturbs both proxies; rounds alternate to spread that out)"
    echo "load: wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS alternating rounds per path"
    echo "      (both proxies back to back each round, ABBA order); values are medians over rounds"
    echo "upstream: one nginx ($UP_WORKERS worker) on 127.0.0.1:$UP_PORT, 200 + 1024-byte body, keep-alive, used by both"
    echo "nginx:   $(nginx -v 2>&1 | sed 's/.*: //'), worker_processes $PROXY_WORKERS, upstream keepalive 64, $([ "$LOGS" = on ] && echo "access_log combined to a file" || echo "access_log off")"
    echo "gateway: $GW_MODE"
    echo "         $("$JAVA" -version 2>&1 | sed -n 1p); command line: $(echo "$GW_CMDLINE" | sed "s#$ROOT/##g")"
    echo "         $([ "$LOGS" = on ] && echo "access log ON (conf/logback.xml, stdout to a file: $(cat "$WORK"/gateway-*.log | grep -c ' listener=') lines; nginx: $(wc -l < "$PXD/access.log") lines)" || echo "access log OFF (logback-bench.xml)"); $(nproc) event loops (availableProcessors);" \
        "$(grep -o '([a-z_]* transport' "$WORK/gateway-$GW_SEQ-$GC.log" | tr -d '(' | head -1)"
    echo "         $GC_NOTE"
    echo "paths:   allowed = GET $ALLOWED_PATH (proxied, 200), denied = GET $DENIED_PATH (403 from the proxy)"
    echo
    printf '%-8s %14s %14s %9s %12s %12s %14s\n' path "nginx req/s" "gateway req/s" "gw/nginx" \
        "nginx p99" "gateway p99" "gw max RSS"
    for kind in allowed denied; do
        # shellcheck disable=SC2086
        nr=$(median ${RPS["nginx $kind"]}); gr=$(median ${RPS["gateway $kind"]})
        # shellcheck disable=SC2086
        np=$(median ${P99["nginx $kind"]}); gp=$(median ${P99["gateway $kind"]})
        printf '%-8s %14.0f %14.0f %9.2f %10.2fms %10.2fms %10.1f MiB\n' "$kind" "$nr" "$gr" \
            "$(awk -v a="$gr" -v b="$nr" 'BEGIN { printf "%.4f", a / b }')" "$np" "$gp" \
            "$(awk -v k="$MAX_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')"
    done
    echo
    echo "gateway RSS: $(awk -v k="$IDLE_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB idle after start," \
        "max $(awk -v k="$MAX_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB sampled every 250 ms under load (warm-up + rounds);" \
        "nginx proxy (master + $PROXY_WORKERS workers) max $(awk -v k="$NGINX_MAX_RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB in its rounds"
    # Each round runs the gateway and nginx back to back, so the two see nearly the same machine; the median of
    # the per-round ratios is less disturbed by slow spells of a shared host than the ratio of the medians.
    for kind in allowed denied; do
        ratios=$(paired_ratios "${RPS["gateway $kind"]}" "${RPS["nginx $kind"]}")
        p99r=$(paired_ratios "${P99["gateway $kind"]}" "${P99["nginx $kind"]}")
        # shellcheck disable=SC2086
        echo "$kind: per-round gateway/nginx req/s $ratios-> median $(median $ratios);" \
            "p99 gateway/nginx $p99r-> median $(median $p99r)"
    done
    # CPU time per request of the proxy process(es), all threads, user + system: what each proxy costs the
    # machine per request, less moved than req/s by how the scheduler shares 2 cores with wrk and the upstream.
    for kind in allowed denied; do
        # shellcheck disable=SC2086
        nc=$(median ${CPU["nginx $kind"]}); gc=$(median ${CPU["gateway $kind"]})
        cr=$(paired_ratios "${CPU["gateway $kind"]}" "${CPU["nginx $kind"]}")
        # shellcheck disable=SC2086
        echo "$kind: CPU per request (user + system, all threads) nginx $nc us, gateway $gc us;" \
            "per-round gateway/nginx $cr-> median $(median $cr)"
    done
    echo "per-round values (req/s | p99 ms | CPU us/request):"
    for kind in allowed denied; do
        for proxy in nginx gateway; do
            printf '  %-8s %-8s %s| %s| %s\n' "$kind" "$proxy" "${RPS["$proxy $kind"]}" "${P99["$proxy $kind"]}" \
                "${CPU["$proxy $kind"]}"
        done
    done
    echo "raw wrk output: tests/bench/out/raw/"
} | tee "$OUT_DIR/results.txt"
