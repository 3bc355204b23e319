#!/usr/bin/env bash
# Builds the Debian bookworm image that container test hosts run (tests/src/hosts/), unless an
# image with this recipe's hash is already there, and prints its tag on stdout (the only line it
# prints there; progress goes to stderr).
#
# No registry is needed: debootstrap makes a root filesystem from the Debian mirror
# ($DEBIAN_MIRROR, default http://deb.debian.org/debian) and `docker import` turns it into an
# image. The tag carries a hash of this file, so editing the recipe below builds a new image and
# an unchanged recipe never rebuilds. Needs root, docker and debootstrap (installed when missing).
#
#   scripts/test-host-image.sh            build if missing, print the tag
#   scripts/test-host-image.sh --tag      print the tag only (build nothing)
set -euo pipefail

# ---- the recipe (everything the tag's hash covers is this file) ----
SUITE=bookworm
# What the provisioner's facts, checks and start paths use on a host, plus sshd and systemd as
# PID 1. coreutils, util-linux, passwd (useradd), mawk and findutils come with every base system.
# python3: Ansible's modules run on the host (the ansible/ suite); the provisioner needs none.
PACKAGES=openssh-server,systemd,systemd-sysv,dbus,iproute2,sudo,ca-certificates,procps,libc-bin,python3
# ---- end of recipe ----

NAME=rustfs-test-host
HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
TAG="$NAME:$HASH"
if [ "${1:-}" = "--tag" ]; then
  echo "$TAG"
  exit 0
fi

log() { echo "test-host-image: $*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
command -v docker >/dev/null 2>&1 || { log "docker is missing: install docker.io"; exit 1; }

# One build at a time on this machine: parallel tests wait for the first build.
exec 9>"${TMPDIR:-/tmp}/rustfs-test-host-image.lock"
flock 9
if $SUDO docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap (apt)"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >&2
fi

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/rustfs-test-host.XXXXXX")
# debootstrap may leave /proc, /sys or a bind-mounted /dev mounted in ROOT when it fails: unmount
# them first and never let rm cross into another filesystem.
cleanup() {
  for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    $SUDO umount -l "$m" 2>/dev/null || true
  done
  $SUDO rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
log "debootstrap $SUITE from $MIRROR into $ROOT (a few minutes, once per recipe)"
started=$(date +%s)
# Downloaded packages are kept for the next recipe change.
CACHE=${TEST_HOST_DEB_CACHE:-/var/cache/rustfs-test-host-debs}
$SUDO mkdir -p "$CACHE"
$SUDO debootstrap --variant=minbase --cache-dir="$CACHE" --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >&2

# Each container gets its own host keys from the harness; none are baked in.
$SUDO rm -f "$ROOT"/etc/ssh/ssh_host_*
# Root logs in with a key only; sftp for staging. The one host key the harness installs.
$SUDO tee "$ROOT/etc/ssh/sshd_config.d/rustfs-test.conf" >/dev/null <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
# A container has no consoles, no udev and no hardware clock to wait for.
for unit in getty@tty1.service console-getty.service systemd-udevd.service \
  systemd-udev-trigger.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer; do
  $SUDO ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
$SUDO mkdir -p "$ROOT/run/sshd" "$ROOT/root/.ssh"
$SUDO chmod 0700 "$ROOT/root/.ssh"
# apt caches and lists are dead weight in the image.
$SUDO rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*

log "docker import as $TAG"
$SUDO tar -C "$ROOT" --numeric-owner -c . |
  $SUDO docker import --change 'CMD ["/sbin/init"]' - "$TAG" >&2
log "built $TAG in $(($(date +%s) - started))s"
# Images of older recipes are dead weight (one still used by a running container stays).
for old in $($SUDO docker images "$NAME" --format '{{.Repository}}:{{.Tag}}'); do
  [ "$old" = "$TAG" ] || $SUDO docker rmi "$old" >/dev/null 2>&1 || true
done
echo "$TAG"
