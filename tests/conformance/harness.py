"""Our side of the conformance corpus: evaluate one case the way `reconciler` evaluates a configuration.

A case is one `NAME.tf` / `NAME.tf.json` with `files/` beside it and an `output "result"`. Variables take
their defaults, locals and resources are evaluated in dependency order, then the output. We have no
`terraform_data` resource type (Terraform's builtin, used by the cases to exercise `count` and
`for_each`), so the harness lends it the name of one we have and gives each instance Terraform's value
for it (`input` and `output` both the evaluated `input`): expansion and every expression stay ours.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from reconciler.config.evaluator import evaluate
from reconciler.config.loader import load_directory
from reconciler.config.outputs import evaluate_outputs
from reconciler.config.refs import declaration_graph
from reconciler.config.scope import ConfigScope
from reconciler.config.variables import VarSources, resolve_variables
from reconciler.errors import ReconcilerError
from reconciler.plan.expansion import collect_value, expand

HERE = Path(__file__).resolve().parent
STAND_IN = "hcloud_ssh_key"  # any type we know; the harness never schema-checks or plans it


def case_paths() -> dict[str, Path]:
    return {p.name.removesuffix(".json").removesuffix(".tf"): p for p in sorted((HERE / "cases").iterdir())}


def evaluate_case(path: Path) -> dict[str, Any]:
    """{"value": ...} or {"error": message} for the case at `path`."""
    with tempfile.TemporaryDirectory(prefix="case-") as tmp:
        work = Path(tmp)
        (work / path.name).write_text(path.read_text().replace("terraform_data", STAND_IN))
        shutil.copytree(HERE / "files", work / "files")
        try:
            return {"value": _outputs(work)["result"]}
        except ReconcilerError as e:
            return {"error": str(e)}


def _outputs(work: Path) -> dict[str, Any]:
    config = load_directory(work)
    decls = config.decls
    variables = resolve_variables(decls.variables, work, VarSources(env={}))
    locals_: dict[str, Any] = {}
    resources: dict[str, dict[str, Any]] = {}
    scope = ConfigScope(work, variables, locals_, resources)
    for node in declaration_graph(decls).order():
        if node.startswith("local."):
            locals_[node[6:]] = evaluate(decls.locals[node[6:]].expr, scope)
        elif node in decls.resources:
            decl = decls.resources[node]
            specs = expand(decl, scope)
            values = {}
            for spec in specs:
                value = evaluate(decl.attributes["input"], spec.scope(scope))
                values[spec.address] = {"input": value, "output": value}
            resources.setdefault(decl.type, {})[decl.name] = collect_value(decl, specs, values)
    return evaluate_outputs(decls.outputs, scope)
