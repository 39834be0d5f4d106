#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine (examples/setup.sh: Debian
# packages as root, nix's config and build users, a venv with the project), then runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# only for the tests: Debian's chromium and npm, to render the PR comment's mermaid graph with the mermaid CLI
EXTRA_APT_PACKAGES="chromium npm:npm" bash examples/setup.sh
exec .venv/bin/python -m pytest -q "$@"
