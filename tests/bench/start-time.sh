#!/usr/bin/env bash
# Start-up time on this machine: from the process start to the first proxied answer over HTTPS, with the shipped
# conf/gateway.yaml (its ports moved to free ones, a fresh self-signed certificate), the service's JVM options
# (packaging/src/deb/etc/default-nango-gateway) and a class-data archive made by a first run, as the service has.
#
#   tests/bench/start-time.sh            # 11 starts, prints each and the median (ms)
#   RUNS=21 tests/bench/start-time.sh
#
# A stand-in Nango (python3 http.server) answers every path, so "the first proxied answer" is its 404 relayed by
# the gateway. curl asks every 5 ms; its own processes take some CPU from the start being measured, the same for
# every run. Needs java, curl, openssl, python3; builds the jar when absent (mvn -o).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${RUNS:-11}
JAR=$ROOT/gateway-cli/target/nango-gateway.jar
[ -f "$JAR" ] || (cd "$ROOT" && mvn -B -o -q package -DskipTests -pl gateway-cli -am)
WORK=$(mktemp -d /tmp/nango-gateway-start.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NANGO=$(free_port); HTTPS=$(free_port); HTTP=$(free_port); INTERNAL=$(free_port); ADMIN=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$WORK/privkey.pem" -out "$WORK/fullchain.pem" >/dev/null 2>&1
sed -e "s|/etc/nango-gateway/tls|$WORK|g" -e "s|0.0.0.0:443\b|127.0.0.1:$HTTPS|" -e "s|0.0.0.0:80\b|127.0.0.1:$HTTP|" \
    -e "s|127.0.0.1:3004|127.0.0.1:$INTERNAL|" -e "s|127.0.0.1:9090|127.0.0.1:$ADMIN|" \
    -e "s|http://127.0.0.1:3003|http://127.0.0.1:$NANGO|" "$ROOT/conf/gateway.yaml" > "$WORK/gateway.yaml"
(cd "$WORK" && exec python3 -m http.server "$NANGO" --bind 127.0.0.1 >/dev/null 2>&1) &
PIDS+=($!)

JAVA_OPTS=; . "$ROOT/packaging/src/deb/etc/default-nango-gateway"
JAVA_OPTS=${JAVA_OPTS//-Dlogback.configurationFile=\/etc\/nango-gateway\/logback.xml/}
URL="https://localhost:$HTTPS/oauth/connect/github?connect_session_token=x"

# One start: ms from exec to the first answer Nango gave (the stand-in's 404), then a clean stop.
start_once() {
  local t0 p code n=0
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  java $JAVA_OPTS "$@" -jar "$JAR" run --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 &
  p=$!
  until code=$(curl -sk -o /dev/null -w '%{http_code}' "$URL") && [ "$code" = 404 ]; do
    n=$((n + 1))
    [ $n -lt 6000 ] || { echo "no answer within 30 s; log:" >&2; tail -20 "$WORK/gateway.log" >&2; kill $p; exit 1; }
    sleep 0.005
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
  kill $p; wait $p 2>/dev/null || true
}

start_once -XX:ArchiveClassesAtExit="$WORK/classes.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off > /dev/null
times=()
for _ in $(seq "$RUNS"); do
  times+=("$(start_once -XX:SharedArchiveFile="$WORK/classes.jsa")")
done
echo "starts (ms): ${times[*]}"
printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "median of %d: %d ms (process start to the first proxied answer over HTTPS)\n", NR, v[int((NR + 1) / 2)] }'
