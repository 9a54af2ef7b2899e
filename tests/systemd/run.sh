#!/usr/bin/env bash
# The Debian package under a real systemd: a Debian 12 root file system (debootstrap) booted with systemd-nspawn,
# the package installed with apt inside it, the shipped configuration with a certificate put in place, and the
# service driven and checked through nsenter.
#
#   tests/systemd/run.sh [path/to/nango-gateway_VERSION_all.deb]     # as root; builds the package when none given
#
# The root file system is made once and kept in $ROOTFS_CACHE (default /var/cache/nango-gateway-ci); each run
# boots a fresh copy of it, so nothing of one run reaches the next. Needs debootstrap and systemd-container (apt
# installs them when missing) and Debian's mirror. Bounded: every wait has a deadline, and the container, its copy
# and every process started here are gone when the script ends, whatever way it ends.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${ROOTFS_CACHE:-/var/cache/nango-gateway-ci}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# What a Debian 12 server running the gateway has: systemd, a Java 17 runtime (the package's dependency, here so
# that apt installs the package without the network), and what the checks below use.
INCLUDE=systemd,systemd-sysv,dbus,openjdk-17-jre-headless,ca-certificates,curl,procps,python3,openssl,iproute2
WORK=$(mktemp -d /tmp/nango-gateway-systemd.XXXXXX)
NSPAWN_PID=
LEADER=
FAILED=0

log() { printf '[systemd-test %s] %s\n' "$(date +%T)" "$*"; }

cleanup() {
  if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
    nsenter -t "$LEADER" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
    for _ in $(seq 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  [ -n "$NSPAWN_PID" ] && kill -9 "$NSPAWN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
[ "$(id -u)" = 0 ] || { echo "run as root: it boots a container" >&2; exit 2; }
need debootstrap debootstrap
need systemd-nspawn systemd-container
need openssl openssl

DEB=${1:-}
if [ -z "$DEB" ]; then
  (cd "$ROOT" && mvn -B -q package -DskipTests -pl packaging -am)
  DEB=$(ls -t "$ROOT"/packaging/target/nango-gateway_*_all.deb | head -1)
fi
log "package: $DEB"

# ------------------------------------------------------------------------------------------ the root file system
# Named after what it holds, so a change to INCLUDE makes a new one.
TARBALL="$CACHE/$SUITE-rootfs-$(printf '%s' "$INCLUDE" | sha256sum | cut -c1-12).tar"
if [ ! -f "$TARBALL" ]; then
  log "making a $SUITE root file system with debootstrap (once; kept in $CACHE)"
  mkdir -p "$CACHE"
  timeout 1200 debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$WORK/build" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; exit 1; }
  rm -rf "$WORK/build/var/cache/apt/archives/"*.deb
  tar -C "$WORK/build" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
  rm -rf "$WORK/build"
fi
mkdir "$WORK/root"
tar -C "$WORK/root" -xf "$TARBALL"
echo nango-gateway-test > "$WORK/root/etc/hostname"
cp "$DEB" "$WORK/root/root/nango-gateway.deb"
# The stand-in Nango: 200 and its path for every request, on Nango's loopback port.
cat > "$WORK/root/root/stand-in-nango.py" <<'EOF'
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("stand-in Nango: " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", 3003), H).serve_forever()
EOF

# ------------------------------------------------------------------------------------------------------ boot it
log "booting it with systemd-nspawn"
systemd-nspawn --register=no --keep-unit --quiet --private-network -b -D "$WORK/root" \
  > "$WORK/console.log" 2>&1 < /dev/null &
NSPAWN_PID=$!
# The container's PID 1 is nspawn's child once that child has become systemd (before, it is nspawn's own helper).
for _ in $(seq 300); do
  LEADER=$(ps -o pid=,comm= --ppid "$NSPAWN_PID" 2>/dev/null | awk '$2 == "systemd" { print $1; exit }' || true)
  [ -n "$LEADER" ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$LEADER" ] || { cat "$WORK/console.log"; echo "the container did not start" >&2; exit 1; }
inside() { timeout 120 nsenter -t "$LEADER" -a "$@"; }
# Its manager answers on the bus a moment after it starts: ask until it does, then wait for the boot to finish.
state=
for _ in $(seq 300); do
  state=$(timeout 120 nsenter -t "$LEADER" -a systemctl is-system-running --wait 2>/dev/null || true)
  [ -n "$state" ] && break
  sleep 0.2
done
log "container up: $state"

check() { # check NAME COMMAND...: runs the command, prints ok/FAIL with its name
  local name=$1; shift
  if out=$("$@" 2>&1); then
    log "ok    $name"
  else
    log "FAIL  $name"
    printf '%s\n' "$out" | sed 's/^/        /' | tail -20
    FAILED=$((FAILED + 1))
  fi
}
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
main_pid() { inside systemctl show -p MainPID --value nango-gateway; }

# --------------------------------------------------------------------------------------------------- install it
inside systemd-run --quiet --unit stand-in-nango python3 /root/stand-in-nango.py
check "apt installs the package" inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/nango-gateway.deb
check "installed enabled, not started without a certificate" \
  sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a systemctl is-enabled nango-gateway)\" = enabled ] \
         && ! timeout 30 nsenter -t $LEADER -a systemctl --quiet is-active nango-gateway"
check "the launcher runs the jar: nango-gateway --version" inside nango-gateway --version
check "systemd-analyze verify: no complaint about the unit" sh -c "! timeout 60 nsenter -t $LEADER -a \
  systemd-analyze verify nango-gateway.service 2>&1 | grep nango-gateway.service"
check "bash completion installed" inside test -s /usr/share/bash-completion/completions/nango-gateway
check "man page installed: nango-gateway(8)" sh -c "timeout 30 nsenter -t $LEADER -a zcat \
  /usr/share/man/man8/nango-gateway.8.gz | grep -q '^.TH NANGO-GATEWAY 8'"
check "conffiles registered" sh -c "timeout 30 nsenter -t $LEADER -a dpkg-query -W -f '\${Conffiles}' nango-gateway \
  | grep -q /etc/nango-gateway/gateway.yaml"

# The certificate, as an operator puts it in place (README): key owned by root, group nango-gateway, mode 0640.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$WORK/privkey.pem" -out "$WORK/fullchain.pem" >/dev/null 2>&1
install -m 0644 "$WORK/fullchain.pem" "$WORK/root/etc/nango-gateway/tls/fullchain.pem"
install -m 0640 "$WORK/privkey.pem" "$WORK/root/etc/nango-gateway/tls/privkey.pem"
inside chgrp nango-gateway /etc/nango-gateway/tls/privkey.pem
# A short watchdog for the test (a drop-in, as an operator would tune it); the gateway feeds it at half of it.
mkdir -p "$WORK/root/etc/systemd/system/nango-gateway.service.d"
# No start rate limit: the test starts and stops the service many times within seconds.
printf '[Unit]\nStartLimitIntervalSec=0\n[Service]\nWatchdogSec=6s\nTimeoutAbortSec=10s\n' \
  > "$WORK/root/etc/systemd/system/nango-gateway.service.d/test.conf"
inside systemctl daemon-reload

# ------------------------------------------------------------------------------------------------ start, serve
T0=$(date +%s.%N)
check "systemctl enable --now" inside systemctl enable --now nango-gateway
check "active (Type=notify: only once every listener is bound)" inside systemctl --quiet is-active nango-gateway
log "      start to active: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f s", b - a }')"
check "status text" sh -c "timeout 30 nsenter -t $LEADER -a systemctl show -p StatusText --value nango-gateway | grep -q ."
check "TLS on BoringSSL under the unit's sandbox" sh -c "timeout 30 nsenter -t $LEADER -a journalctl -u nango-gateway \
  --no-pager -o cat | grep -q 'ready: .*TLS BoringSSL'"
# MainPID is the container's own number for the process: everything about it is read inside the container.
PID=$(main_pid)
# Every option of the file, read from the file itself, and the bounds the issue asks for.
jvm_options_present() {
  local cmdline opts
  cmdline=" $(timeout 30 nsenter -t "$LEADER" -a cat /proc/$PID/cmdline | tr '\0' ' ')"
  opts=$(timeout 30 nsenter -t "$LEADER" -a sh -c '. /etc/default/nango-gateway; echo "$JAVA_OPTS"')
  for o in $opts -XX:+ExitOnOutOfMemoryError; do
    case "$cmdline" in *" $o "*) ;; *) echo "missing: $o in$cmdline"; return 1 ;; esac
  done
  case "$opts" in *-Xmx*-XX:MaxDirectMemorySize=*|*-XX:MaxDirectMemorySize=*-Xmx*) ;; *) echo "unbounded: $opts"; return 1 ;; esac
}
check "the JVM runs with /etc/default/nango-gateway's options" jvm_options_present
check "runs as nango-gateway" sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a ps -o user= -p $PID)\" = nango-gateway ]"
check "CAP_NET_BIND_SERVICE only" sh -c "timeout 30 nsenter -t $LEADER -a cat /proc/$PID/status \
  | grep -q '^CapEff:[[:space:]]*0000000000000400$'"
check "HTTPS: a private route gets 403" sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a curl -s -k -o /dev/null \
  -w '%{http_code}' https://127.0.0.1/api/v1/account)\" = 403 ]"
check "HTTPS: an OAuth route reaches Nango" sh -c "timeout 30 nsenter -t $LEADER -a curl -s -k \
  'https://127.0.0.1/oauth/connect/github?connect_session_token=x' | grep -q 'stand-in Nango: /oauth/connect/github'"
check "HTTP redirects to HTTPS" sh -c "timeout 30 nsenter -t $LEADER -a curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
  http://127.0.0.1/oauth/connect/github | grep -q '^30[18] https://'"
check "admin /metrics" sh -c "timeout 30 nsenter -t $LEADER -a curl -s http://127.0.0.1:9090/metrics \
  | grep -q '^nango_gateway_responses_total'"

# Every access-log line of a burst reaches the journal.
BURST=500
inside sh -c "for i in \$(seq $BURST); do printf 'url = \"https://127.0.0.1/burst-%d\"\noutput = /dev/null\n' \$i; done \
  > /root/burst.curl"
inside curl -s -k --parallel --parallel-max 20 -K /root/burst.curl 2>/dev/null || true
sleep 1
logged=$(inside journalctl -u nango-gateway -o cat --no-pager | grep -c '"GET /burst-' || true)
check "all $BURST access-log lines of a burst in the journal ($logged)" test "$logged" -eq "$BURST"

# ------------------------------------------------------------------------------------------------------ reload
cp "$WORK/root/etc/nango-gateway/gateway.yaml" "$WORK/gateway.yaml.orig"
sed -i 's#^      - name: oauth-connect$#      - name: reload-probe\n        path: /reload-probe\n        respond: {status: 204}\n      - name: oauth-connect#' \
  "$WORK/root/etc/nango-gateway/gateway.yaml"
T0=$(date +%s.%N)
check "systemctl reload with a good file" inside systemctl reload nango-gateway
log "      reload: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f s", b - a }')"
check "the reloaded route answers" sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a curl -s -k -o /dev/null \
  -w '%{http_code}' https://127.0.0.1/reload-probe)\" = 204 ]"
echo "listeners: [oops" >> "$WORK/root/etc/nango-gateway/gateway.yaml"
check "systemctl reload with a broken file fails" sh -c "! timeout 60 nsenter -t $LEADER -a systemctl reload nango-gateway"
check "the reload's errors reach the journal, located" sh -c "timeout 30 nsenter -t $LEADER -a journalctl \
  -u nango-gateway --no-pager | grep -A1 'refused the new configuration' | grep -q '/etc/nango-gateway/gateway.yaml:[0-9]*:[0-9]*:'"
check "and the gateway still serves" sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a curl -s -k -o /dev/null \
  -w '%{http_code}' https://127.0.0.1/reload-probe)\" = 204 ]"
cp "$WORK/gateway.yaml.orig" "$WORK/root/etc/nango-gateway/gateway.yaml"
inside systemctl reload nango-gateway || true

# ---------------------------------------------------------------------------------------------- restarts, stop
OLD=$(main_pid)
inside kill -9 "$OLD"
check "kill -9: restarted" wait_for 30 sh -c "p=\$(timeout 10 nsenter -t $LEADER -a systemctl show -p MainPID --value nango-gateway); \
  [ \"\$p\" != 0 ] && [ \"\$p\" != $OLD ] && timeout 10 nsenter -t $LEADER -a systemctl --quiet is-active nango-gateway"
OLD=$(main_pid)
# A gateway that stops running: every thread stopped, event loops included. systemd's watchdog kills and restarts it.
inside kill -STOP "$OLD"
check "watchdog: a stopped gateway is restarted" wait_for 40 sh -c "p=\$(timeout 10 nsenter -t $LEADER -a systemctl show -p MainPID --value nango-gateway); \
  [ \"\$p\" != 0 ] && [ \"\$p\" != $OLD ] && timeout 10 nsenter -t $LEADER -a systemctl --quiet is-active nango-gateway"
check "the journal says why" sh -c "timeout 30 nsenter -t $LEADER -a journalctl -u nango-gateway --no-pager | grep -qi watchdog"
check "systemctl stop drains and exits cleanly" inside systemctl stop nango-gateway
check "stop result: success" sh -c "[ \"\$(timeout 30 nsenter -t $LEADER -a systemctl show -p Result --value nango-gateway)\" = success ]"
check "a normal stop leaves the class-data archive for the next start" sh -c "timeout 30 nsenter -t $LEADER -a \
  sh -c 'ls /var/cache/nango-gateway/classes-*.jsa'"

# Start and reload times, as medians of 5 (reported, never asserted: a loaded machine must not fail the test).
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
first_200() { # seconds from `systemctl start` to the first proxied 200
  inside sh -c 't0=$(date +%s%N); systemctl reset-failed nango-gateway 2>/dev/null; systemctl start nango-gateway; i=0; \
    until [ "$(curl -s -k -o /dev/null -w %{http_code} "https://127.0.0.1/oauth/connect/github?connect_session_token=x")" = 200 ]; \
    do i=$((i + 1)); [ $i -lt 3000 ] || { echo 99999; exit 0; }; sleep 0.01; done; echo $(( ($(date +%s%N) - t0) / 1000000 ))'
}
starts=$(for _ in 1 2 3 4 5; do first_200; inside systemctl stop nango-gateway; done | median)
log "      start to first proxied 200: median ${starts} ms of 5 (systemctl start; class-data archive in use)"
inside systemctl start nango-gateway
reloads=$(for _ in 1 2 3 4 5; do inside sh -c 't0=$(date +%s%N); systemctl reload nango-gateway; \
  echo $(( ($(date +%s%N) - t0) / 1000000 ))'; done | median)
log "      systemctl reload: median ${reloads} ms of 5"

# ----------------------------------------------------------------------------------------------------- upgrade
# The operator's edit of a conffile survives, and a running service is restarted on the new files.
inside sh -c 'printf "\n# edited by the operator\n" >> /etc/nango-gateway/gateway.yaml'
OLD=$(main_pid)
check "upgrade (the package installed again over itself)" inside env DEBIAN_FRONTEND=noninteractive \
  dpkg -i --force-confold /root/nango-gateway.deb
check "the operator's edit of gateway.yaml survives" inside grep -q "edited by the operator" /etc/nango-gateway/gateway.yaml
check "a running service is restarted by the upgrade" sh -c "p=\$(timeout 10 nsenter -t $LEADER -a systemctl show -p MainPID \
  --value nango-gateway); [ \"\$p\" != 0 ] && [ \"\$p\" != $OLD ] && timeout 10 nsenter -t $LEADER -a systemctl --quiet is-active nango-gateway"

# ------------------------------------------------------------------------------------------------------ remove
check "apt remove" inside env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q nango-gateway
check "no gateway process left" sh -c "! timeout 30 nsenter -t $LEADER -a pgrep -u nango-gateway"
check "removed: the configuration stays" inside test -f /etc/nango-gateway/gateway.yaml
check "apt purge" inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nango-gateway
check "purged: state, cache and configuration gone" inside sh -c \
  '! test -e /var/lib/nango-gateway && ! test -e /var/cache/nango-gateway && ! test -e /etc/nango-gateway/gateway.yaml'

if [ "$FAILED" -gt 0 ]; then
  log "$FAILED check(s) failed; journal:"
  inside journalctl -u nango-gateway --no-pager -n 60 || true
  exit 1
fi
log "all checks passed"
