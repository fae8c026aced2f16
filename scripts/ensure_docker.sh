#!/usr/bin/env bash
# Make sure a Docker daemon answers: install docker.io and debootstrap if missing (apt-get),
# start dockerd in the background if no daemon answers, wait (bounded) until `docker info` works.
# Idempotent: a second run with a live daemon does nothing. Needs root to install or start.
set -u
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT_S=${DOCKERD_WAIT_S:-60}

say() { echo "ensure_docker: $*"; }

daemon_up() {
  if command -v docker >/dev/null 2>&1; then
    timeout 10 docker info >/dev/null 2>&1
  else
    python3 -c "import docker; docker.from_env(timeout=5).ping()" >/dev/null 2>&1
  fi
}

if daemon_up; then
  say "daemon already answers"
  missing=""
  command -v debootstrap >/dev/null 2>&1 || missing="debootstrap"
else
  missing=""
  command -v dockerd >/dev/null 2>&1 || missing="docker.io"
  command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
fi

if [ -n "${missing// /}" ]; then
  if [ "$(id -u)" != 0 ]; then say "need root to install:$missing"; exit 1; fi
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { say "apt-get install$missing failed"; exit 1; }
fi

if daemon_up; then say "ready"; exit 0; fi
if [ "$(id -u)" != 0 ]; then say "no daemon answers and starting one needs root"; exit 1; fi

wait_up() {  # $1 = pid of dockerd
  local i
  for i in $(seq 1 "$WAIT_S"); do
    daemon_up && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

start() {  # start dockerd with the given flags, wait for it
  say "starting dockerd $* (log: $LOG)"
  rm -f /var/run/docker.pid
  nohup dockerd "$@" >>"$LOG" 2>&1 &
  local pid=$!
  if wait_up "$pid"; then say "daemon up (dockerd $*)"; return 0; fi
  kill "$pid" 2>/dev/null; sleep 2; kill -9 "$pid" 2>/dev/null
  return 1
}

# The default flags work on this project's machines (overlay2, iptables); containers without
# overlayfs or netfilter (nested containers) need vfs storage and no iptables/bridge.
start && exit 0
start --storage-driver=vfs --iptables=false --bridge=none && exit 0
say "dockerd did not come up in ${WAIT_S}s; last log lines:"
tail -n 20 "$LOG" >&2
exit 1
