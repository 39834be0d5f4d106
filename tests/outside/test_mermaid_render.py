"""The PR comment's mermaid picture, rendered by the mermaid CLI (npm `@mermaid-js/mermaid-cli`) in
Debian's Chromium: the bundled fleet's graph (nodes coloured by action, dormant ones greyed, grouped by
provider, with a legend), a toggle-off's (destroys and NixOS updates)
and a 75-machine fleet's, which past the node cap is the summary by resource type and action and so stays
a picture instead of a 21,925 x 174 px strip. RECONCILER_WRITE_DOCS=1 rewrites the examples under docs/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.outside.tools import CACHE

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
MANY = """
resource "hcloud_server" "node" {
  count       = 75
  name        = "node-${count.index}"
  server_type = "cx23"
  image       = "ubuntu-24.04"
}
resource "nixos_machine" "node" {
  count       = 75
  target_host = hcloud_server.node[count.index].ipv4_address
  flake       = ".#node-${count.index}"
}
"""


def mmdc() -> Path:
    """The mermaid CLI, installed from npm into the tools cache without a browser of its own."""
    root = CACHE / "mermaid"
    binary = root / "node_modules" / ".bin" / "mmdc"
    if not CHROMIUM.exists() or shutil.which("npm") is None:
        pytest.skip("SKIPPED LOUDLY: needs Debian's chromium (apt-get install chromium) and npm")
    if not binary.exists():
        root.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "@mermaid-js/mermaid-cli"], cwd=root,
                              env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}, capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"SKIPPED LOUDLY: npm could not install @mermaid-js/mermaid-cli: {proc.stderr[-400:]}")
    return binary


def markdown_mermaid(directory: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--markdown", *args,
                           "--no-color"], capture_output=True, text=True, cwd=directory, timeout=300)
    assert proc.returncode in (0, 2), proc.stderr[-2000:]
    found = re.search(r"```mermaid\n(.*?)```", proc.stdout, re.DOTALL)
    assert found is not None, proc.stdout[-2000:]
    return found.group(1)


def render(source: str, tmp: Path, name: str) -> tuple[Path, float, float]:
    (tmp / f"{name}.mmd").write_text(source)
    config = tmp / "puppeteer.json"
    config.write_text(json.dumps({"executablePath": str(CHROMIUM),
                                  "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}))
    out = tmp / f"{name}.svg"
    subprocess.run([str(mmdc()), "-p", str(config), "-i", str(tmp / f"{name}.mmd"), "-o", str(out), "-b", "white"],
                   check=True, capture_output=True, timeout=300)
    box = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', out.read_text())
    assert box is not None
    return out, float(box.group(1)), float(box.group(2))


def keep(tmp: Path, name: str) -> None:
    if os.environ.get("RECONCILER_WRITE_DOCS") == "1":
        for suffix in (".mmd", ".svg"):
            shutil.copy(tmp / f"{name}{suffix}", ROOT / "docs" / f"{name}{suffix}")


def test_the_fleet_graph_renders_coloured_and_grouped(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(ROOT / "examples" / "fleet", fleet)
    source = markdown_mermaid(fleet)  # the GPU node is off: it and its machine are drawn dormant
    assert 'subgraph p_hcloud["hcloud"]' in source and 'subgraph legend["Legend"]' in source
    assert ":::create" in source and ":::install" in source and "classDef install " in source
    assert 'n_google_compute_instance_gpu["z google_compute_instance.gpu"]:::dormant' in source
    svg, width, height = render(source, tmp_path, "plan-graph-example")
    text = svg.read_text()
    assert "hcloud_server.web" in text and "install NixOS" in text  # nodes and legend are drawn
    assert width / height < 6, (width, height)
    keep(tmp_path, "plan-graph-example")


def test_a_toggle_off_draws_destroys_and_updates(tmp_path: Path) -> None:
    source = (ROOT / "tests" / "golden" / "toggle_gpu_off" / "expected" / "graph.mmd").read_text()
    assert ":::destroy" in source and ":::nixosupdate" in source
    svg, width, height = render(source, tmp_path, "toggle")
    assert "update NixOS" in svg.read_text() and width / height < 6, (width, height)


def test_a_75_machine_fleet_is_drawn_as_a_summary_not_a_strip(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MANY)
    source = markdown_mermaid(tmp_path)
    assert "hcloud_server: + create (75)" in source and "nixos_machine: > install NixOS (75)" in source
    svg, width, height = render(source, tmp_path, "plan-graph-summary-example")
    assert "hcloud_server: + create (75)" in svg.read_text()
    assert max(width / height, height / width) < 6, (width, height)
    keep(tmp_path, "plan-graph-summary-example")
