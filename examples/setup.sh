#!/usr/bin/env bash
# Installs what reconciler's examples and tests need on Debian 12, then the project itself into .venv.
# As root (with apt-get) it installs the Debian packages below and sets nix up as Debian's nix-bin does not:
# /etc/nix/nix.conf (flakes on, offline-friendly) and the `nixbld` build users that nix's default
# `build-users-group` names. Without root it only checks for them and says what is missing.
# Idempotent: a second run changes nothing. Usage: bash examples/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="python3 python3-venv python3-pip ca-certificates git nix-bin openssh-server openssh-client iproute2 \
util-linux procps psmisc kmod postgresql"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Callers may ask for more: EXTRA_APT_PACKAGES="pkg pkg:cmd ..." (pkg:cmd is skipped when cmd is on the PATH,
# e.g. npm from another source than Debian's).
wanted() { # the packages of $1 that are missing
  for entry in $1; do
    pkg=${entry%%:*}
    if [ "$pkg" != "$entry" ] && command -v "${entry#*:}" >/dev/null 2>&1; then continue; fi
    installed "$pkg" || printf ' %s' "$pkg"
  done
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=$(wanted "$APT_PACKAGES ${EXTRA_APT_PACKAGES:-}")
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # No service may start from a package's install script (a chroot or container has no init).
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
  fi
  # nix: Debian's nix-bin ships no /etc/nix and no build users; nix run as root expects group nixbld.
  mkdir -p /etc/nix
  if [ ! -s /etc/nix/nix.conf ]; then
    printf 'build-users-group = nixbld\nexperimental-features = nix-command flakes\n' > /etc/nix/nix.conf
  fi
  getent group nixbld >/dev/null || groupadd --system nixbld
  for i in $(seq 1 8); do
    id "nixbld$i" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/empty --gid nixbld \
      --groups nixbld --shell /usr/sbin/nologin --comment "Nix build user $i" "nixbld$i"
  done
  mkdir -p /nix/var/nix/daemon-socket /run/sshd
else
  for tool in nix ssh; do
    command -v "$tool" >/dev/null 2>&1 || echo "setup: \`$tool\` is missing; as root this script installs it (NixOS parts need it)" >&2
  done
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
echo "setup: done (.venv/bin/reconciler; put it on your PATH with: export PATH=\"$PWD/.venv/bin:\$PATH\")"
