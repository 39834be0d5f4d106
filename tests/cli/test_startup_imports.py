"""What a warm `validate` of a small configuration imports (docs/performance.md, Start-up): none of the heavy
libraries, and none of the standard library modules only some commands or some values need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFIG = """
variable "size" {
  default = "cx23"
}

resource "hcloud_server" "web" {
  name        = "web"
  server_type = var.size
  image       = "ubuntu-24.04"
}
"""

NOT_FOR_VALIDATE = (
    # parsing and schema checks that are known to pass, the plan graph, the event loop and what apply uses
    "hcl2", "lark", "jsonschema", "networkx", "asyncio", "asyncssh", "rich", "hcloud", "requests",
    "google.cloud.compute_v1", "psycopg", "pyrage",
    # the standard library: a fraction or an exponent (decimal), a new lineage or lock (uuid, secrets), a
    # did-you-mean (difflib), an internal error or --debug (traceback), a cache entry written (tempfile)
    "decimal", "uuid", "secrets", "difflib", "traceback", "tempfile",
)


def test_a_warm_validate_imports_only_what_it_uses(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    env = {**os.environ, "RECONCILER_CACHE_DIR": str(tmp_path / "cache")}
    probe = ("import json, sys\nfrom reconciler.cli.main import main\ncode = main(['validate', '-C', sys.argv[1]])\n"
             f"print(json.dumps([code, sorted(m for m in {list(NOT_FOR_VALIDATE)!r} if m in sys.modules)]))\n")
    runs = [json.loads(subprocess.run([sys.executable, "-c", probe, str(tmp_path)], env=env, capture_output=True,
                                      text=True, check=True).stdout.splitlines()[-1]) for _ in range(2)]
    assert runs[0][0] == 0 and "hcl2" in runs[0][1]  # the first run parses: the probe sees what is imported
    assert runs[1] == [0, []]
