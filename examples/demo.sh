#!/usr/bin/env bash
# The main job on the bundled example: install reconciler into .venv, validate the example fleet and print
# its plan (offline: no credentials, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
.venv/bin/reconciler validate -C examples/fleet
.venv/bin/reconciler plan -C examples/fleet --no-refresh "$@"
