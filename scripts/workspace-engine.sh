#!/usr/bin/env bash
# Makes a Docker Engine answer on the local socket and the workspace image
# exist, for `make test` and `make run`. Only does what is missing:
#   - Debian's docker.io when there is no dockerd (there is no other source
#     of packages on these machines);
#   - dockerd when no engine answers, with the flags that work in this
#     kind of sandbox (no iptables, no bridge, vfs storage); its log goes to
#     $NEOSC_DOCKERD_LOG;
#   - the image neosc/workspace-busybox:dev from Debian's busybox-static,
#     imported as a root filesystem: no registry, no download.
set -euo pipefail

IMAGE=${NEOSC_WORKSPACE_IMAGE:-neosc/workspace-busybox:dev}
LOG=${NEOSC_DOCKERD_LOG:-/tmp/neosc-dockerd.log}

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! answers; then
  if ! command -v dockerd >/dev/null; then
    echo "workspace engine: installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if ! answers; then
    echo "workspace engine: starting dockerd (log: $LOG)"
    nohup dockerd --iptables=false --bridge=none --storage-driver=vfs >"$LOG" 2>&1 &
    for _ in $(seq 1 60); do answers && break; sleep 0.5; done
    answers || { echo "workspace engine: dockerd did not answer; its log:" >&2; tail -20 "$LOG" >&2; exit 1; }
  fi
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if [ ! -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1 || ldd /bin/busybox >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  fi
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/home/workspace" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'workspace:x:1000:1000:workspace:/home/workspace:/bin/sh' >"$root/etc/passwd"
  echo 'workspace:x:1000:' >"$root/etc/group"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  echo "workspace engine: built $IMAGE from $(/bin/busybox | head -1)"
fi
echo "workspace engine: Docker $(docker version --format '{{.Server.Version}}'), image $IMAGE"
