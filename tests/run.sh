#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine (examples/setup.sh: Debian
# packages as root, nix's config and build users, a venv with the project), then runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/setup.sh
# only for the tests: Debian's chromium and npm, to render the PR comment's mermaid graph with the mermaid CLI
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  extra=""
  dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" || extra="chromium"
  command -v npm >/dev/null 2>&1 || extra="$extra npm"
  if [ -n "$extra" ]; then
    echo "tests/run.sh: installing Debian packages: $extra"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $extra >/dev/null
  fi
fi
exec .venv/bin/python -m pytest -q "$@"
