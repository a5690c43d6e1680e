#!/usr/bin/env bash
# Measure `.ci/run` from empty caches without touching this machine's warm ones.
#
# A clean clone of REF runs `.ci/run` (or --command) against a second Docker engine of its own
# (empty data root, own socket and bridge), with an empty HOME (so empty cpmatrix caches: sources,
# ccache, wheelhouse; an empty pip cache) and Python packages installed into a fresh venv.
# The only warm things left are apt packages and the kernel's page cache. Everything it made is
# removed at the end unless --keep. Needs root (dockerd, ip, iptables).
#
#   bash scripts/measure_cold_ci.sh [--ref REF] [--workdir DIR] [--keep] [--command CMD]
#
# Prints `cold .ci/run: exit N after S s` last; the whole log is WORKDIR/ci.log.
set -euo pipefail

ref=HEAD
workdir=""
keep=0
command=".ci/run"
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) ref=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --command) command=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "measure_cold_ci: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "measure_cold_ci: run as root (it starts a dockerd)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse --verify "$ref^{commit}")
workdir=${workdir:-$(mktemp -d /var/tmp/cpmatrix-cold-XXXXXX)}
mkdir -p "$workdir"
bridge=cpm-cold0
subnet=172.29.0.0/16
socket="$workdir/docker.sock"

log() { printf '[cold-ci] %s\n' "$*" >&2; }

cleanup() {
  if [ -n "${engine_pid:-}" ]; then
    kill "$engine_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 1; done
  fi
  iptables -t nat -D POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$bridge" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o "$bridge" -j ACCEPT 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  if [ "$keep" = 0 ]; then
    rm -rf "$workdir/docker" "$workdir/exec" "$workdir/home" "$workdir/tmp" "$workdir/venv" \
      "$workdir/clone"
  fi
}
trap cleanup EXIT

log "engine: a dockerd of its own at $socket (data in $workdir/docker)"
ip link add name "$bridge" type bridge
ip addr add 172.29.0.1/16 dev "$bridge"
ip link set "$bridge" up
iptables -t nat -A POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE
iptables -I FORWARD -i "$bridge" -j ACCEPT
iptables -I FORWARD -o "$bridge" -j ACCEPT
dockerd --data-root "$workdir/docker" --exec-root "$workdir/exec" \
  --pidfile "$workdir/dockerd.pid" -H "unix://$socket" \
  --bridge="$bridge" --iptables=false --ip-masq=false >"$workdir/dockerd.log" 2>&1 &
engine_pid=$!
export DOCKER_HOST="unix://$socket"
for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
docker info >/dev/null 2>&1 || { log "dockerd did not start: $workdir/dockerd.log"; exit 1; }

log "clone: $commit"
git clone -q "$repo" "$workdir/clone"
git -C "$workdir/clone" checkout -q "$commit"
mkdir -p "$workdir/home" "$workdir/tmp"
python3 -m venv "$workdir/venv"

export HOME="$workdir/home" TMPDIR="$workdir/tmp" CI=true PATH="$workdir/venv/bin:$PATH"
unset XDG_CACHE_HOME CPMATRIX_CACHE CPMATRIX_TEST_BUILD_ROOT PIP_CACHE_DIR VIRTUAL_ENV
log "running: $command (log: $workdir/ci.log)"
start=$(date +%s)
set +e
(cd "$workdir/clone" && bash -c "$command") 2>&1 | tee "$workdir/ci.log"
status=${PIPESTATUS[0]}
set -e
echo "cold .ci/run: exit $status after $(( $(date +%s) - start )) s (commit $commit)" \
  | tee -a "$workdir/ci.log"
exit "$status"
