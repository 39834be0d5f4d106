"""providers.google.sdk loads only the six Compute Engine services the provider uses, and the SDK package
stays whole for any other user in the same process. Run in a fresh interpreter: the import state is the
point of the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
from providers.google import sdk
c = sdk.load()
services = sorted(m.rsplit('.', 1)[1] for m in sys.modules
                  if m.startswith('google.cloud.compute_v1.services.') and m.count('.') == 4)
first = {'services': services, 'client': c.InstancesClient.__name__, 'type': c.InsertInstanceRequest.__name__}
from google.cloud import compute_v1
first['disks'] = compute_v1.DisksClient.__name__
first['same'] = compute_v1.InstancesClient is c.InstancesClient
first['version'] = bool(compute_v1.__version__)
print(json.dumps(first))
"""


def test_only_the_used_services_are_imported_and_the_package_completes_on_demand() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120,
                         check=True)
    seen = json.loads(out.stdout)
    used = {"accelerator_types", "disk_types", "images", "instances", "machine_types", "zone_operations"}
    # the used services and what they import themselves (images brings global_operations), nothing else
    assert used <= set(seen["services"]) <= used | {"global_operations"}, seen["services"]
    assert seen["client"] == "InstancesClient" and seen["type"] == "InsertInstanceRequest"
    assert seen["disks"] == "DisksClient" and seen["same"] is True and seen["version"] is True
