#!/usr/bin/env bash
# The main job on the sandbox, from a fresh clone (as root on Linux): set up, `sandbox up`, plan and apply the
# quickstart fleet (VMs created, NixOS installed on each), turn the GPU node on (create + install + cost),
# off (destroy + saving), on again (the same host key and vars, no host-key warning), change one machine's
# flake and update it (^), `sandbox down`. Prints each plan with its cost delta; checks after every step what
# it must have done, and exits non-zero at the first step that did not. Usage: sudo bash examples/quickstart/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "run.sh needs root: the sandbox's machines are network namespaces (sudo bash examples/quickstart/run.sh)" >&2
  exit 1
fi
if [ -n "${RECONCILER:-}" ]; then
  read -r -a R <<< "$RECONCILER"  # another reconciler command (the tests' own), nothing to set up
else
  bash "$repo/examples/setup.sh"
  R=("$repo/.venv/bin/reconciler")
fi
# local nix: flakes on, no binary cache, no registry, builds outside nix's sandbox (the systems use /bin/sh)
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters =\nflake-registry = /dev/null\nsandbox = false'
# the flake is a git flake; root's git may not read a clone another user owns unless told it is safe
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="$repo"
cd "$here"

step() { printf '\n\033[1m=== %s ===\033[0m\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }
expect() { # expect FILE PATTERN WHAT: the output in FILE has a line matching PATTERN
  grep -Eq -- "$2" "$1" || fail "$3 (no line matching '$2' in the output above)"
}
refuse() { # refuse FILE PATTERN WHAT
  if grep -Eq -- "$2" "$1"; then fail "$3 (a line matches '$2' in the output above)"; fi
}
out=$(mktemp)
known_hosts=$(mktemp)
cleanup() {
  "${R[@]}" sandbox down >/dev/null 2>&1 || true
  git -C "$here" checkout -q -- machines/electrum.nix 2>/dev/null || true
  rm -f "$out" "$known_hosts"
}
trap cleanup EXIT

run() { # run ARGS...: show and run a reconciler command, its output also in $out
  printf '$ reconciler %s\n' "$*"
  "${R[@]}" "$@" --no-color 2>&1 | tee "$out"
  return "${PIPESTATUS[0]}"
}
remote() { # remote MACHINE COMMAND: over SSH with the pinned host key only (a changed key fails)
  "${R[@]}" machines known-hosts > "$known_hosts"
  local address
  address=$(awk -v m="$1" '$4 == m { print $1 }' "$known_hosts")
  [ -n "$address" ] || fail "$1 has no pinned host key"
  ssh -i .reconciler/sandbox/hosts/id_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$known_hosts" -o LogLevel=ERROR "root@$address" "$2"
}
settle() { # settle [ARGS...]: after an apply, the fleet must match the configuration
  # The flake reads inventory.json, which apply rewrites at its end: machines installed or updated in that
  # apply were built with the members' addresses known at plan time. Until the inventory is written inside
  # the apply, one more apply deploys the new addresses; it may only update NixOS systems (^).
  local code=0
  run plan --detailed-exitcode "$@" || code=$?
  [ "$code" = 0 ] && return 0
  [ "$code" = 2 ] || fail "the plan after apply failed"
  if grep -E '^ *(\+|-|~|-/\+|\+/-|>) resource ' "$out"; then fail "the fleet did not converge: the lines above are still planned"; fi
  echo "NOTE: the members' addresses reached inventory.json after the machines were built: one more apply"
  run apply --auto-approve "$@"
  refuse "$out" '[1-9][0-9]* failed' "the apply that deploys the inventory failed"
  run plan --detailed-exitcode "$@" || fail "the fleet did not converge: a plan after apply still has changes"
}
host_key() { "${R[@]}" vars get "$1" ssh_host_key/ssh_host_ed25519_key.pub; }

step "0. Start from scratch (stop and forget a previous run's sandbox)"
"${R[@]}" sandbox down >/dev/null 2>&1 || true
rm -rf .reconciler vars reconciler.state.json reconciler.state.json.* sandbox_override.tf
git checkout -q -- inventory.json machines/electrum.nix

step "1. sandbox up: the cloud APIs and local hosts for the servers"
run sandbox up --speed 100
expect "$out" "Servers get local hosts" "the sandbox runs without hosts, so NixOS cannot be installed"

step "2. Generate the vars (the peers read the network id through \$in)"
run vars generate
network=$("${R[@]}" vars get cinnabar zerotier-network/network_id)
join=$("${R[@]}" vars get electrum zerotier-join/command)
[ "$join" = "zerotier-cli join $network" ] || fail "electrum's join command does not carry the network id"
echo "network id $network; electrum runs: $join"

step "3. Plan and apply the fleet: 4 cloud objects, NixOS installed on 3 machines (the GPU node is off)"
run plan
expect "$out" '^Plan: 4 to add, 0 to change, 0 to destroy' "the first plan does not add the 4 cloud objects"
expect "$out" '3 to install, 0 to update' "the first plan does not install NixOS on 3 machines"
expect "$out" '^Monthly cost: ' "the plan shows no cost"
run apply --auto-approve
expect "$out" 'Apply complete: 7 done, 0 failed' "the first apply did not do all 7 steps"
for m in cinnabar electrum galena; do
  system=$(remote "$m" 'readlink /run/current-system') || fail "cannot reach $m with its pinned host key"
  case "$system" in */nix/store/*-nixos-system-$m-1) echo "$m runs $system" ;;
    *) fail "$m does not run its NixOS system (it runs '$system')" ;; esac
done
settle

step "4. GPU node on: create + install, and what it costs"
run plan --var gpu=true
expect "$out" '^ *\+ resource "google_compute_instance" "scheelite"' "turning the GPU on does not create scheelite"
expect "$out" '^ *> resource "nixos_machine" "scheelite"' "turning the GPU on does not install NixOS on scheelite"
expect "$out" '^Monthly cost: .*\(\+[0-9]' "turning the GPU on shows no added cost"
run apply --auto-approve --var gpu=true
refuse "$out" '[1-9][0-9]* failed' "turning the GPU on failed"
settle --var gpu=true
key_on=$(host_key scheelite)
join_on=$("${R[@]}" vars get scheelite zerotier-join/command)
system=$(remote scheelite 'readlink /run/current-system') || fail "cannot reach scheelite with its pinned host key"
echo "scheelite runs $system; host key ${key_on:0:40}..."

step "5. GPU node off: its VM destroyed, the saving shown; its identity and vars are kept"
run plan --var gpu=false
expect "$out" '^ *- resource "google_compute_instance" "scheelite"' "turning the GPU off does not destroy scheelite's VM"
expect "$out" '^Monthly cost: .*\(-[0-9]' "turning the GPU off shows no saving"
run apply --auto-approve --var gpu=false
refuse "$out" '[1-9][0-9]* failed' "turning the GPU off failed"
settle --var gpu=false
[ "$(host_key scheelite)" = "$key_on" ] || fail "scheelite's host key was not kept while it was off"

step "6. GPU node on again: a new VM, the same machine (host key, vars), no host-key warning"
run plan --var gpu=true
expect "$out" '^ *> resource "nixos_machine" "scheelite"' "turning the GPU on again does not reinstall scheelite"
run apply --auto-approve --var gpu=true
refuse "$out" '[1-9][0-9]* failed' "turning the GPU on again failed"
refuse "$out" 'REMOTE HOST IDENTIFICATION HAS CHANGED|[Hh]ost key (mismatch|changed)' "a host-key warning"
settle --var gpu=true
[ "$(host_key scheelite)" = "$key_on" ] || fail "scheelite came back with another host key"
[ "$("${R[@]}" vars get scheelite zerotier-join/command)" = "$join_on" ] || fail "scheelite came back with other vars"
remote scheelite true || fail "scheelite does not present its pinned host key"
echo "scheelite is back with host key ${key_on:0:40}... and the same vars"

step "7. Change electrum's flake and update it (^)"
sed -i 's/version = "1"/version = "2"/; s/peer (Hetzner)/peer (Hetzner), updated/' machines/electrum.nix
run plan --var gpu=true
expect "$out" '^ *\^ resource "nixos_machine" "electrum"' "electrum's changed flake is not planned as an update"
expect "$out" '0 to install, 1 to update' "more than electrum would change"
run apply --auto-approve --var gpu=true
refuse "$out" '[1-9][0-9]* failed' "the update of electrum failed"
settle --var gpu=true
case "$(remote electrum 'readlink /run/current-system')" in *-nixos-system-electrum-2) ;;
  *) fail "electrum does not run its updated system" ;; esac
remote electrum 'cat /run/motd'

step "8. sandbox down: every host and process stops; the world stays for the next sandbox up"
tag=$(sed -n 's/.*"tag": "\([0-9a-f]*\)".*/\1/p' .reconciler/sandbox/run.json)
run sandbox down
if ip netns list | grep -q "rct-${tag:-none}-"; then fail "sandbox down left network namespaces behind"; fi
printf '\nThe main job ran: fleet applied, GPU node on/off/on with the same host key, electrum updated.\n'
