#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for cpmatrix: Python deps (editable, with dev extras),
# a Docker engine if none answers, and debootstrap (the base-image fallback where no registry
# answers), and on x86_64 qemu-user-static registered through binfmt_misc with the F flag, so that
# linux-aarch64 artifacts are proven in arm64 containers under emulation. Safe to run again:
# each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v gpg >/dev/null 2>&1 || need_apt+=(gpg)
command -v patch >/dev/null 2>&1 || need_apt+=(patch)
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
command -v patchelf >/dev/null 2>&1 || need_apt+=(patchelf)
command -v readelf >/dev/null 2>&1 || need_apt+=(binutils)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)  # counts a build's sched_yield calls
if [ "$(uname -m)" = x86_64 ]; then  # linux-aarch64 proofs under emulation (verify/emulation.py)
  command -v qemu-aarch64-static >/dev/null 2>&1 || need_apt+=(qemu-user-static)
  command -v update-binfmts >/dev/null 2>&1 || need_apt+=(binfmt-support)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} from the system's apt sources"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

register_qemu() {
  # F (fix-binary): the kernel opens qemu now, so containers run arm64 binaries with no qemu
  # inside them. Debian's /usr/share/binfmts/qemu-aarch64 asks for it (fix_binary yes).
  local binfmt=/proc/sys/fs/binfmt_misc
  if ! mountpoint -q "$binfmt"; then
    as_root mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || {
      log "cannot mount binfmt_misc: linux-aarch64 artifacts cannot be proven on this machine"
      return 0; }
  fi
  [ -e "$binfmt/qemu-aarch64" ] || as_root update-binfmts --enable qemu-aarch64 || true
  if grep -q '^flags: .*F' "$binfmt/qemu-aarch64" 2>/dev/null; then
    log "qemu-aarch64 registered with binfmt_misc (flags F): $(qemu-aarch64-static --version | head -n 1)"
  else
    log "qemu-aarch64 is not registered with the F flag: linux-aarch64 proofs will be refused"
  fi
}
if [ "$(uname -m)" = x86_64 ]; then register_qemu; fi

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers; starting dockerd (log: /var/log/cpmatrix-dockerd.log)"
  as_root sh -c 'nohup dockerd >/var/log/cpmatrix-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/cpmatrix-dockerd.log"; exit 1; }
fi

log "installing cpmatrix and its dev tools (pip install -e .[dev])"
# A distribution's system python (PEP 668) refuses pip installs; this is a build machine, so
# install beside it (/usr/local) rather than fail. Other pythons ignore the variable.
PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q -e '.[dev]' 2>&1 \
  | grep -v '^WARNING: Location' >&2 || true
python3 -c 'import cpmatrix, invoke, yaml, docker' || { log "pip install failed"; exit 1; }
log "ready: $(docker version --format 'docker engine {{.Server.Version}}'), $(python3 --version)"
