# Helpers the benchmark scripts share; sourced, not run. A script sets BENCH_TAG (its name in log lines) first.

log() { printf '[%s %s] %s\n' "${BENCH_TAG:-bench}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {    # wait_port PORT PID WHAT
    local i
    for ((i = 0; i < 300; i++)); do
        port_open "$1" && return 0
        kill -0 "$2" 2>/dev/null || die "$3 exited before listening on $1"
        sleep 0.1
    done
    die "$3 did not listen on $1 within 30s"
}

median() {       # median N...
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

apt_install_missing() {   # apt_install_missing "COMMAND PACKAGE" ...: installs the packages whose command is missing
    local pair cmd pkg missing=() sudo=""
    for pair in "$@"; do
        read -r cmd pkg <<< "$pair"
        command -v "$cmd" >/dev/null || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] || sudo=sudo
    log "installing ${missing[*]} with apt"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

service_java_opts() {     # service_java_opts OPTS-FILE LOGBACK [EXTRA]: the unit's JAVA_OPTS, logging to LOGBACK
    ( . "$1"; echo "$JAVA_OPTS${3:+ $3} -Dlogback.configurationFile=$2" ) \
        | sed 's#-Dlogback.configurationFile=/etc/nango-gateway/logback.xml ##'
}
