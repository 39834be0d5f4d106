#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine (examples/setup.sh: Debian
# packages as root, nix's config and build users, a venv with the project), then runs the whole suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/setup.sh
exec .venv/bin/python -m pytest -q "$@"
