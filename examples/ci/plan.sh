#!/usr/bin/env bash
# The pull-request step: validate, plan against the recorded state, and save what a reviewer and the apply
# step need, in $OUT_DIR:
#   plan.bin     the saved plan; apply.sh applies exactly this (keep it as an artifact; it holds variable
#                values: treat it as secret, as Terraform's plan files)
#   plan.txt     the text plan          comment.md  the PR comment (Markdown, starts with a marker line)
#   plan.json    Terraform's plan JSON, for policy tools (OPA, checkov, terraform-compliance)
#   plan.tree    the git tree of the configuration the plan was made from
# Exit code: 0 no changes, 2 changes (both success for CI), 1 error (validation, refresh, lock, ...).
source "$(dirname "$0")/lib.sh"
rc validate || exit 1
code=0
rc plan --out "$OUT_DIR/plan.bin" --detailed-exitcode > "$OUT_DIR/plan.txt" || code=$?
[ "$code" = 0 ] || [ "$code" = 2 ] || { cat "$OUT_DIR/plan.txt"; exit 1; }
{ echo "<!-- reconciler-plan -->"; rc show "$OUT_DIR/plan.bin" --markdown; } > "$OUT_DIR/comment.md" || exit 1
rc show "$OUT_DIR/plan.bin" --json > "$OUT_DIR/plan.json" || exit 1
config_tree > "$OUT_DIR/plan.tree"
cat "$OUT_DIR/plan.txt"
exit "$code"
