#!/usr/bin/env bash
# The main job on the bundled example: install reconciler into .venv, validate the example fleet, print its
# plan, then what turning the GPU node on would add and cost (offline: no credentials, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/setup.sh
.venv/bin/reconciler validate -C examples/fleet
.venv/bin/reconciler plan -C examples/fleet --no-refresh "$@"
echo
echo "With the GPU node on (--var gpu_enabled=true):"
.venv/bin/reconciler plan -C examples/fleet --no-refresh --no-color --var gpu_enabled=true "$@" \
  | grep -E "^(  [+>] .*(gpu|scheelite)|Plan:|Monthly cost:)"
