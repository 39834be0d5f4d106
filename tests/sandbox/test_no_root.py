"""Without root (or without nix/sshd/iproute2), the sandbox runs the cloud half only and says so in one line:
what works and how to get the rest. Servers then get distinct loopback addresses, never public ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.console import Out
from reconciler.cli.sandbox import _describe
from reconciler.sandbox import daemon
from reconciler.sandbox.world import SandboxDir


def test_no_hosts_without_root_and_one_line_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("reconciler.sandbox.daemon.missing_requirements",
                        lambda: "hosts need root (network and mount namespaces)")
    farm, reason = daemon._farm(SandboxDir(tmp_path), {})
    assert farm is None and reason == "hosts need root (network and mount namespaces)"
    _describe(Out(color=False), {"endpoints": {"hcloud": "http://127.0.0.1:1/v1"}, "hosts": False,
                                 "no_hosts_reason": reason})
    lines = capsys.readouterr().out.splitlines()
    (line,) = [ln for ln in lines if "Cloud APIs only" in ln]
    assert "hosts need root" in line and "sudo reconciler sandbox up" in line
