#!/usr/bin/env bash
# The scheduled step: refresh and compare with the recorded state, proposing nothing. Writes
# $OUT_DIR/drift.txt and, when something drifted, $OUT_DIR/drift.md (an issue body).
# Exit code: 0 no drift, 2 drift (objects changed or deleted out of band, machines running another system),
# 1 error.
source "$(dirname "$0")/lib.sh"
code=0
rc plan --refresh-only --out "$OUT_DIR/drift.bin" --detailed-exitcode > "$OUT_DIR/drift.txt" || code=$?
cat "$OUT_DIR/drift.txt"
[ "$code" = 2 ] || exit "$code"
{
  echo "<!-- reconciler-drift -->"
  echo "## Drift: the fleet differs from the recorded state"
  echo
  echo "Found by \`reconciler plan --refresh-only\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Nothing was changed;"
  echo "the next apply reconciles it (or record it with \`reconciler apply\` of a saved \`--refresh-only\` plan)."
  echo
  echo '```text'
  cat "$OUT_DIR/drift.txt"
  echo '```'
} > "$OUT_DIR/drift.md"
exit 2
