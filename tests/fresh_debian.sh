#!/usr/bin/env bash
# Proves the README's set-up commands on a brand-new Debian 12: builds a fresh root with debootstrap (from the
# mirror this machine's own apt sources name, read at run time), copies a fresh clone of this repository's
# HEAD into it, and runs the README's commands there (each command between the `setup-commands` markers),
# as root, in a mount namespace whose root is the new Debian root. Needs root and Debian's debootstrap.
# Usage: bash tests/fresh_debian.sh [ROOT_DIR]      (default /var/tmp/reconciler-fresh-debian; removed first)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-/var/tmp/reconciler-fresh-debian}"
[ "$(id -u)" = 0 ] || { echo "fresh_debian.sh: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 update -qq;
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null; }

# The mirror: the first Debian archive URI of this machine's apt sources (deb822 or one-line format).
mirror="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
[ -n "$mirror" ] || mirror="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
[ -n "$mirror" ] || { echo "fresh_debian.sh: no Debian mirror found in /etc/apt/sources*" >&2; exit 1; }

# The commands to prove: the README's lines between the markers, in order.
mapfile -t commands < <(sed -n '/<!-- setup-commands -->/,/<!-- \/setup-commands -->/p' "$repo/README.md" \
  | grep -E '^(bash|sh|\./)' | sed 's/[[:space:]]*#.*$//')
[ "${#commands[@]}" -eq 2 ] || { echo "fresh_debian.sh: expected 2 commands between the README's setup-commands markers, found ${#commands[@]}" >&2; exit 1; }

echo "== debootstrap bookworm from $mirror into $root"
rm -rf --one-file-system "$root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log"; exit 1; }
# This machine's way out: its resolver and any local CA certificates its network needs (the ca-certificates
# package, installed by the README's commands, adds them to the new root's trust store). Nothing else.
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
# A chroot has no init: packages must not start services (as in any Debian container image).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"

echo "== fresh clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone -q --no-hardlinks "$repo" "$root/root/reconciler"

script='set -e; cd /root/reconciler'

for c in "${commands[@]}"; do script="$script; echo \"== \$ $c\"; $c"; done
echo "== running the README's commands in the new root"
# The new root becomes the mount namespace's own root (pivot_root, not a bare chroot): nix re-enters its
# saved mount namespace before running ssh, which from a bare chroot would land outside it.
unshare --mount --propagation private bash -ec '
  root="$1"; shift
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
  mount --rbind /dev "$root/dev"; mount -t tmpfs tmpfs "$root/run"; mount -t tmpfs tmpfs "$root/tmp"
  mkdir -p "$root/run/lock" "$root/run/netns" "$root/.oldroot"
  cd "$root"; pivot_root . .oldroot
  exec env -i HOME=/root CI=true RECONCILER_REQUIRE_HOSTS=1 LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /usr/sbin/chroot . /bin/bash -c "umount -l /.oldroot && rmdir /.oldroot && $1"' _ "$root" "$script"
