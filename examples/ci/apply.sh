#!/usr/bin/env bash
# The merge step: apply exactly the reviewed saved plan ($OUT_DIR/plan.bin from plan.sh). It is stale when
# the configuration changed since it was made (another merge landed first) or reconciler refuses it
# because the state moved on; then, never silently:
#   ON_STALE=replan (default)  plan again from this checkout, apply that, and write $OUT_DIR/stale.md (a
#                              note for the PR saying the reviewed plan was stale, with the plan applied)
#   ON_STALE=stop              write $OUT_DIR/stale.md with the new plan and exit 3 without applying
# Exit code: 0 applied, 1 error or a failed step (the state lock held by another runner included),
# 3 stale and stopped.
source "$(dirname "$0")/lib.sh"
ON_STALE="${ON_STALE:-replan}"
stale=""
if [ ! -f "$OUT_DIR/plan.bin" ]; then
  stale="there is no reviewed plan for this commit"
elif [ "$(cat "$OUT_DIR/plan.tree" 2>/dev/null)" != "$(config_tree)" ]; then
  stale="the configuration changed since the plan was reviewed"
else
  code=0
  rc apply "$OUT_DIR/plan.bin" 2> "$OUT_DIR/apply.err" || code=$?
  cat "$OUT_DIR/apply.err" >&2
  if [ "$code" = 0 ]; then exit 0; fi
  if grep -q "saved plan is stale" "$OUT_DIR/apply.err"; then
    stale="the state changed since the plan was reviewed"
  else
    exit "$code"
  fi
fi

say "the reviewed plan is stale: $stale"
code=0
rc plan --out "$OUT_DIR/replan.bin" --detailed-exitcode > "$OUT_DIR/replan.txt" || code=$?
[ "$code" = 0 ] || [ "$code" = 2 ] || { cat "$OUT_DIR/replan.txt"; exit 1; }
{
  echo "<!-- reconciler-stale -->"
  echo "**The reviewed plan was stale** ($stale)."
  if [ "$ON_STALE" = stop ]; then
    echo "Nothing was applied. This is the plan from the merged configuration; review it and apply it by hand or re-run."
  else
    echo "The plan below was made from the merged configuration and applied instead."
  fi
  echo
  rc show "$OUT_DIR/replan.bin" --markdown
} > "$OUT_DIR/stale.md"
cat "$OUT_DIR/replan.txt"
if [ "$ON_STALE" = stop ]; then exit 3; fi
[ "$code" = 0 ] && { say "the merged configuration needs no change"; exit 0; }
rc apply "$OUT_DIR/replan.bin"
