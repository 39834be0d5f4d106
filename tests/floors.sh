#!/usr/bin/env bash
# The dependency-floors job: a throwaway venv with the LOWEST versions pyproject.toml allows of the two cloud
# SDKs (hcloud, google-cloud-compute; pinned with a pip --constraint file), the project installed into it,
# and the tests that drive the SDKs (tests/providers, tests/e2e) run there. Fails if the code uses anything newer than the floors.
# Usage: bash tests/floors.sh [pytest args]. Needs python3 with venv and access to PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

floor() {  # the version after ">=" for a dependency of pyproject.toml
  "$PY" - "$ROOT/pyproject.toml" "$1" <<'PYEOF'
import re, sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
name = sys.argv[2]
for dep in deps:
    m = re.match(rf"^{re.escape(name)}\s*>=\s*([0-9][0-9.]*)", dep)
    if m:
        print(m.group(1))
        break
else:
    sys.exit(f"no floor (>=) for {name} in pyproject.toml")
PYEOF
}

HCLOUD="$(floor hcloud)"
COMPUTE="$(floor google-cloud-compute)"
printf 'hcloud==%s\ngoogle-cloud-compute==%s\n' "$HCLOUD" "$COMPUTE" > "$WORK/constraints.txt"
echo "floors: hcloud==$HCLOUD google-cloud-compute==$COMPUTE"

START=$SECONDS
"$PY" -m venv "$WORK/venv"
PIP=("$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check --prefer-binary
     --constraint "$WORK/constraints.txt")
"${PIP[@]}" "$ROOT" pytest pytest-timeout hypothesis
"$WORK/venv/bin/python" - "$HCLOUD" "$COMPUTE" <<'PYEOF'
import importlib.metadata as m, sys
from packaging.version import Version
got = (m.version("hcloud"), m.version("google-cloud-compute"))
assert tuple(map(Version, got)) == tuple(map(Version, sys.argv[1:3])), f"installed {got}, wanted {sys.argv[1:3]}"
print(f"installed: hcloud {got[0]}, google-cloud-compute {got[1]}")
PYEOF
echo "floors: venv ready in $((SECONDS - START)) s"

# The tests run from the source tree (they import tests.*; the CLI they start finds reconciler through
# PYTHONPATH), with the floors' SDKs from the throwaway venv.
cd "$ROOT"
# Every test that drives the SDKs: the providers' own, and the end-to-end runs of the CLI against the
# emulators (the slow kill loops and storms aside).
if [ "$#" -eq 0 ]; then set -- tests/providers tests/e2e -m "not slow"; fi
PYTHONPATH="$ROOT" "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
