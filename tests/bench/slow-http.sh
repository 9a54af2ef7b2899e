#!/usr/bin/env bash
# Availability under slow-HTTP attacks: the gateway and nginx side by side, in front of the same stand-in Nango.
#
#   tests/bench/slow-http.sh                 # slowloris, slow body, slow read; 2,000 connections, 40 s each
#   CONNS=500 LENGTH=20 ATTACKS="body" tests/bench/slow-http.sh
#
# For each proxy and each attack, slowhttptest (Debian's package) opens CONNS connections at 500 a second from
# loopback and keeps them slow for LENGTH seconds, while a separate client polls an allowed route
# (GET /oauth/callback) every 100 ms with a 3 s timeout. Availability is the share of polls answered 200. Neither
# proxy has a per-client connection limit here (the poller shares the attacker's address), so what is measured is
# what each proxy does with the slow connections themselves:
#   slowloris  headers trickled forever           (-H; the header timeout)
#   body       a webhook POST body trickled       (-B -s 65536 -i 10; request buffering, the minimum body rate)
#   read       a 6 MiB response read slowly       (-X; response buffering; BIG_MIB to change it). Loopback's
#              socket buffers hold about 4 MiB of a response on their own, so a smaller one tests nothing.
# Each row also says what the attack's own requests got (by status class, from the gateway's /metrics and nginx's
# access log) and how many reached the stand-in Nango, so a row where the attack was refused at the door (and so
# held nothing) is not taken for a row where it was served slowly.
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
ADMIN_PORT=18092
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

# nginx's workers run as nobody: they must be able to read the big file (mktemp makes the directory 0700).
chmod 755 "$WORK"
head -c $((${BIG_MIB:-6} * 1024 * 1024)) /dev/zero | tr '\0' 'b' > "$WORK/big"
chmod 644 "$WORK/big"
cat > "$WORK/up.conf" <<EOF
worker_processes 1;
pid $WORK/up.pid;
error_log $WORK/up-error.log;
events { worker_connections 16384; }
http {
  log_format st '\$status \$request_uri';
  access_log $WORK/up-access.log st;
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
  log_format st '\$status \$request_uri';
  access_log $WORK/nginx-access.log st;
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
server: {buffer_disk: ${BUFFER_DISK:-16GiB}}
upstreams:
  nango: {url: "http://127.0.0.1:$UP_PORT"}
listeners:
  - name: public
    bind: 127.0.0.1:$GW_PORT
    max_connections: 20000
    routes:
      - {name: oauth-callback, path: /oauth/callback, methods: [GET], proxy: {upstream: nango}}
      - {name: webhooks, path: '/webhook/{env}/{provider}', methods: [POST], proxy: {upstream: nango}}
      - {name: big, path: /big, methods: [GET], proxy: {upstream: nango}}
  - name: admin
    bind: 127.0.0.1:$ADMIN_PORT
    routes:
      - {name: metrics, path: /metrics, methods: [GET], metrics: {}}
EOF

nginx -c "$WORK/up.conf"
nginx -c "$WORK/proxy.conf"
# The service's JVM options (packaging/src/deb/etc/default-nango-gateway), then the benchmark's logging.
JAVA_OPTS=; . "$ROOT/packaging/src/deb/etc/default-nango-gateway"
# shellcheck disable=SC2086
java $JAVA_OPTS \
  -Dlogback.configurationFile="$BENCH_DIR/logback-bench.xml" -Djava.io.tmpdir="$WORK" \
  -jar "$CLI_JAR" run --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/oauth/callback" && break; sleep 0.1; done
# Every attacked route must answer 200 through both proxies before any attack, or the rows mean nothing.
for port in $GW_PORT $NGINX_PORT; do
  for probe in "GET /oauth/callback" "POST /webhook/prod/github" "GET /big"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X "${probe%% *}" -d x "http://127.0.0.1:$port${probe#* }")
    [ "${probe%% *}" = GET ] && code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port${probe#* }")
    [ "$code" = 200 ] || { echo "$probe on port $port answered $code, not 200: fix the stand-in first" >&2; exit 1; }
  done
done

# Polls the allowed route every 100 ms for $1 seconds; prints "answered total misses", misses being the other
# answers by status (000: no answer within 3 s) and the slowest answer.
poll() {
  local port=$1 seconds=$2 ok=0 total=0 code end out misses="" slowest=0
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    out=$(curl -s -m 3 -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/oauth/callback?code=x&state=y" || true)
    code=${out%% *}
    slowest=$(awk -v a="$slowest" -v b="${out#* }" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
    total=$((total + 1))
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else misses="$misses${code:-000},"; fi
    sleep 0.1
  done
  echo "$ok $total ${misses:-none} ${slowest}s"
}

# The attack route's answers so far, by status class, as "2xx=N 5xx=M ...".
answers() {
  local proxy=$1 route=$2 path=$3
  if [ "$proxy" = gateway ]; then
    curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v r="route=\"$route\"" '
      /^nango_gateway_requests_total\{/ && index($0, r) { match($0, /class="[^"]*"/); c = substr($0, RSTART + 7, 3); n[c] += $2 }
      END { for (c in n) printf "%s=%d ", c, n[c] }'
  else
    awk -v p="$path" '$2 == p || (p ~ /\/$/ && index($2, p) == 1) { n[substr($1, 1, 1) "xx"]++ } END { for (c in n) printf "%s=%d ", c, n[c] }' \
      "$WORK/nginx-access.log"
  fi
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
  case $kind in
    slowloris) route=oauth-callback path=/oauth/callback ;;
    body) route=webhooks path=/webhook/ ;;
    read) route=big path=/big ;;
  esac
  for proxy in gateway nginx; do
    port=$([ $proxy = gateway ] && echo $GW_PORT || echo $NGINX_PORT)
    before=$(answers "$proxy" "$route" "$path")
    : > "$WORK/up-access.log"
    attack "$kind" "$port" > "$WORK/$kind-$proxy.txt" 2>&1 &
    apid=$!
    sleep 5 # let the attack open its connections
    read -r ok total misses slowest < <(poll "$port" $((LENGTH - 10)))
    wait "$apid" || true
    # The attack's own view, at its busiest: how many slow connections it held open at once.
    held=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$kind-$proxy.txt" | awk '/connected:/ { if ($2 + 0 > m) m = $2 + 0 } END { print m + 0 }')
    printf '%-10s %-8s %6.2f %%  (%d of %d polls answered 200; attack held up to %d connections)\n' "$kind" \
      "$proxy" "$(awk -v o="$ok" -v t="$total" 'BEGIN { print t ? 100 * o / t : 0 }')" "$ok" "$total" "$held"
    printf '%-19s poller misses: %s; slowest answer %s\n' "" "$misses" "$slowest"
    printf '%-19s attack requests answered, before / after: [%s] / [%s]; reached Nango: %d\n' "" "$before" \
      "$(answers "$proxy" "$route" "$path")" "$(awk -v p="$path" '$2 == p || (p ~ /\/$/ && index($2, p) == 1) { n++ } END { print n + 0 }' "$WORK/up-access.log")"
    if [ "$proxy" = gateway ]; then
      printf '%-19s gateway: %s\n' "" "$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '
        /^nango_gateway_upstream_errors_total\{/ { match($0, /kind="[^"]*"/); printf "upstream %s %d, ", substr($0, RSTART + 6, RLENGTH - 7), $2 }
        /^nango_gateway_buffered_bytes\{/ { match($0, /store="[^"]*"/); printf "%s now %.0f MiB, ", substr($0, RSTART + 7, RLENGTH - 8), $2 / 1048576 }
        /^nango_gateway_buffer_refusals_total\{/ { match($0, /store="[^"]*"/); printf "%s refusals %d, ", substr($0, RSTART + 7, RLENGTH - 8), $2 }')"
    fi
    sleep 3
  done
done
