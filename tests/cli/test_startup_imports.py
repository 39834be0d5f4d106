"""What a warm `validate` of a small configuration imports (docs/performance.md, Start-up): none of the heavy
libraries, and none of the standard library modules only some commands or some values need."""

from __future__ import annotations

import os
from pathlib import Path

from tests.startup_probe import validate_imports

CONFIG = 'variable "size" {\n  default = "cx23"\n}\n\nresource "hcloud_server" "web" {\n  name = "web"\n' \
         '  server_type = var.size\n  image = "ubuntu-24.04"\n}\n'

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
    runs = [validate_imports(tmp_path, env, NOT_FOR_VALIDATE) for _ in range(2)]
    assert runs[0][0] == 0 and "hcl2" in runs[0][1]  # the first run parses: the probe sees what is imported
    assert runs[1] == (0, [])
