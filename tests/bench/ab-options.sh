#!/usr/bin/env bash
# Two sets of JVM options for the gateway, side by side, on one machine: an A/B test of the options alone.
#
#   tests/bench/ab-options.sh OLD_DEFAULTS_FILE [NEW_DEFAULTS_FILE]   # NEW: packaging/src/deb/etc/default-nango-gateway
#   LOGS=on ROUNDS=10 tests/bench/ab-options.sh /tmp/old-defaults
#
# Each file is an /etc/default/nango-gateway (one JAVA_OPTS="..." assignment). Both gateways run this build's jar
# through the package's launcher, as the service does (tests/bench/run.sh's GC=unit), at the same time, on the same
# upstream (an nginx returning a fixed 200 with a 1 KiB body, as in run.sh), with run.sh's bench.yaml on ports
# 18081 (A) and 18082 (B). After a warm-up of both, rounds of `wrk -t2 -c64 -d8s` go to A and B back to back, in
# ABBA order, on the proxied and the denied path, so that a busy spell of the machine falls on both: the table gives
# each round's B/A ratio of req/s and of CPU time per request (user + system of the JVM, from /proc), their medians,
# and each gateway's RSS, sampled every 250 ms over the whole run (warm-up included) as run.sh samples it.
# LOGS=on: both write every request to a file (conf/logback.xml, stdout to a file); off: logback-bench.xml.
# Prints the table and writes it to tests/bench/out/ab-results.txt. Everything it starts is stopped on exit.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
OUT_DIR=$BENCH_DIR/out
A_FILE=${1:?usage: ab-options.sh OLD_DEFAULTS_FILE [NEW_DEFAULTS_FILE]}
B_FILE=${2:-$ROOT/packaging/src/deb/etc/default-nango-gateway}
LOGS=${LOGS:-off}
LOGBACK=$BENCH_DIR/logback-bench.xml
[ "$LOGS" = on ] && LOGBACK=$ROOT/conf/logback.xml
CLI_JAR=$ROOT/gateway-cli/target/nango-gateway.jar
ROUNDS=${ROUNDS:-8}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-20s}          # per gateway and path
JAVA=${JAVA:-java}
UP_PORT=18003
declare -A PORT=([A]=18081 [B]=18082) PID=() FILE=([A]=$A_FILE [B]=$B_FILE)
ALLOWED_PATH='/oauth/callback?code=abc&state=xyz'
DENIED_PATH='/api/v1/account'

BENCH_TAG=ab
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"
command -v nginx >/dev/null && command -v wrk >/dev/null || die "nginx and wrk are needed (tests/bench/run.sh installs them)"
[ -f "$CLI_JAR" ] || die "no $CLI_JAR: mvn -B -o -q package -DskipTests"
for f in "$A_FILE" "$B_FILE"; do [ -r "$f" ] || die "cannot read $f"; done
for p in "$UP_PORT" "${PORT[A]}" "${PORT[B]}"; do
    if port_open "$p"; then die "port $p is already in use"; fi
done

mkdir -p "$OUT_DIR"
WORK=$(mktemp -d /tmp/nango-ab.XXXXXX)
KIDS=()
cleanup() {
    local rc=$? p
    trap - EXIT
    for p in "${KIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${KIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------- upstream
mkdir -p "$WORK/upstream/tmp"
BODY=$(head -c 1024 /dev/zero | tr '\0' 'x')
cat > "$WORK/upstream/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/upstream/nginx.pid;
error_log $WORK/upstream/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/upstream/tmp/body;
    proxy_temp_path $WORK/upstream/tmp/proxy;
    fastcgi_temp_path $WORK/upstream/tmp/fastcgi;
    uwsgi_temp_path $WORK/upstream/tmp/uwsgi;
    scgi_temp_path $WORK/upstream/tmp/scgi;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT backlog=4096;
        default_type text/html;
        location / { return 200 "$BODY"; }
    }
}
EOF
nginx -p "$WORK/upstream/" -c "$WORK/upstream/nginx.conf" -e "$WORK/upstream/error.log" &
KIDS+=("$!")
wait_port "$UP_PORT" "$!" "upstream nginx"

# ---------------------------------------------------------------------------------------------- gateways
flags() {        # flags FILE: its JAVA_OPTS, the bench's logging configuration in place of /etc's
    service_java_opts "$1" "$LOGBACK"
}
for x in A B; do
    sed "s/127.0.0.1:18081/127.0.0.1:${PORT[$x]}/" "$BENCH_DIR/bench.yaml" > "$WORK/bench-$x.yaml"
    JAVA_OPTS="$(flags "${FILE[$x]}")" NANGO_GATEWAY_JAR="$CLI_JAR" NANGO_GATEWAY_JAVA="$JAVA" NANGO_GATEWAY_CDS=off \
        "$ROOT/packaging/src/deb/bin/nango-gateway" run --config "$WORK/bench-$x.yaml" > "$WORK/gateway-$x.log" 2>&1 &
    PID[$x]=$!
    KIDS+=("$!")
done
declare -A CMDLINE=()
for x in A B; do
    wait_port "${PORT[$x]}" "${PID[$x]}" "gateway $x"
    # What the JVM runs with, the launcher's additions included (it execs java: the PID is the JVM's).
    CMDLINE[$x]=$(tr '\0' ' ' < "/proc/${PID[$x]}/cmdline")
done
log "gateways up: A pid ${PID[A]} (${FILE[A]}), B pid ${PID[B]} (${FILE[B]})"

PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))
CLK_TCK=$(getconf CLK_TCK)
RSS_FILE=$WORK/rss.samples
( exec {tick}<> <(:)   # shell builtins only: nothing forks while a gateway is measured
  while kill -0 "${PID[A]}" 2>/dev/null && kill -0 "${PID[B]}" 2>/dev/null; do
      read -r _ a _ < "/proc/${PID[A]}/statm" || true
      read -r _ b _ < "/proc/${PID[B]}/statm" || true
      echo "$((a * PAGE_KB)) $((b * PAGE_KB))"
      read -t 0.25 -u "$tick" _ || true
  done ) > "$RSS_FILE" &
KIDS+=("$!")
sleep 1
IDLE=$(tail -1 "$RSS_FILE")

cpu_ticks() {    # user + system clock ticks of a process, every thread
    local stat
    read -r stat < "/proc/$1/stat"
    stat=${stat##*) }
    read -r -a f <<< "$stat"
    echo $((f[11] + f[12]))
}

log "warm-up: ${WARMUP} per gateway and path"
for x in A B; do
    for path in "$ALLOWED_PATH" "$DENIED_PATH"; do
        wrk -t2 -c64 -d"$WARMUP" "http://127.0.0.1:${PORT[$x]}$path" > /dev/null
    done
done

declare -A RPS=() CPU=()
for ((r = 1; r <= ROUNDS; r++)); do
    for kind in allowed denied; do
        if [ "$kind" = allowed ]; then path=$ALLOWED_PATH; else path=$DENIED_PATH; fi
        order="A B"
        [ $((r % 2)) = 0 ] && order="B A"
        for x in $order; do
            f=$WORK/round$r-$x-$kind.txt
            t0=$(cpu_ticks "${PID[$x]}")
            wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:${PORT[$x]}$path" > "$f" 2>&1 || die "wrk failed: $(cat "$f")"
            t1=$(cpu_ticks "${PID[$x]}")
            rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
            n=$(awk '/requests in/ {print $1; exit}' "$f")
            cpu=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
            RPS["$x $kind"]+="$rps "
            CPU["$x $kind"]+="$cpu "
            log "round $r/$ROUNDS $kind $x: $rps req/s, $cpu us CPU/request"
            sleep 1
        done
    done
done

ratios() {       # ratios "B1 B2 ..." "A1 A2 ...": B1/A1 B2/A2 ...
    awk -v b="$1" -v a="$2" 'BEGIN { n = split(b, x, " "); split(a, y, " ")
        for (i = 1; i <= n; i++) printf "%.3f ", x[i] / y[i] }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
read -r MAX_A MAX_B < <(awk '$1 > a { a = $1 } $2 > b { b = $2 } END { print a, b }' "$RSS_FILE")
{
    echo "nango-gateway JVM options A/B — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, load average at end $(cut -d' ' -f1-3 /proc/loadavg); $("$JAVA" -version 2>&1 | sed -n 1p)"
    echo "load: wrk -t2 -c64 -d$DURATION, $ROUNDS rounds per path, A and B back to back in ABBA order, after ${WARMUP} of warm-up each per path; logs $LOGS"
    for x in A B; do
        echo "$x: ${FILE[$x]}: $(echo "${CMDLINE[$x]}" | sed "s#$ROOT/##g")"
    done
    echo
    for kind in allowed denied; do
        # shellcheck disable=SC2086
        rr=$(ratios "${RPS["B $kind"]}" "${RPS["A $kind"]}"); cr=$(ratios "${CPU["B $kind"]}" "${CPU["A $kind"]}")
        # shellcheck disable=SC2086
        echo "$kind: req/s A $(median ${RPS["A $kind"]}), B $(median ${RPS["B $kind"]}); CPU/request A $(median ${CPU["A $kind"]}) us, B $(median ${CPU["B $kind"]}) us"
        # shellcheck disable=SC2086
        echo "  per-round B/A req/s $rr-> median $(median $rr); CPU/request $cr-> median $(median $cr)"
    done
    echo "RSS: A $(mib "${IDLE% *}") MiB idle, max $(mib "$MAX_A") MiB; B $(mib "${IDLE#* }") MiB idle, max $(mib "$MAX_B") MiB (every 250 ms, warm-up included)"
    echo "per-round values (req/s | CPU us/request):"
    for kind in allowed denied; do
        for x in A B; do
            printf '  %-8s %s %s| %s\n' "$kind" "$x" "${RPS["$x $kind"]}" "${CPU["$x $kind"]}"
        done
    done
} | tee "$OUT_DIR/ab-results.txt"
