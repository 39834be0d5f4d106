# Shared by plan.sh, apply.sh and drift.sh (sourced, not run). Settings, all from the environment:
#   RECONCILER   the command to run reconciler (default: reconciler)
#   CONFIG_DIR   the configuration directory, inside a git checkout (default: .)
#   OUT_DIR      where the plan, its renderings and notes go (default: reconciler-out); hand it from the
#                plan step to the apply step (a CI artifact)
set -uo pipefail
RECONCILER="${RECONCILER:-reconciler}"
CONFIG_DIR="$(cd "${CONFIG_DIR:-.}" && pwd)"
OUT_DIR="${OUT_DIR:-reconciler-out}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"

rc() { # run reconciler on the configuration; its own exit code is returned
  # shellcheck disable=SC2086 - RECONCILER may be a command with arguments (".venv/bin/python -m reconciler")
  $RECONCILER "$@" -C "$CONFIG_DIR" --no-color
}

config_tree() { # the git tree of the configuration directory: what the plan was made from
  git -C "$CONFIG_DIR" rev-parse "HEAD:./" 2>/dev/null || echo "not-a-git-checkout"
}

say() { echo "reconciler-ci: $*" >&2; }
