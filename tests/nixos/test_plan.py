"""The provider without hosts: plan's single evaluation, host-key planning, names, flake references, install
phase resumption, error explanations, known_hosts text and machine selection."""

from __future__ import annotations

import asyncio
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from providers.base import ApplyRequest, PlanRequest, ProviderConfig, RecordedResource
from reconciler.actions import Action
from reconciler.errors import CommandError, ConfigError, ProviderError, ReconcilerError
from reconciler.nixos import create_provider, known_hosts_from_state, machines_to_update
from reconciler.nixos.install import explain, start_phase
from reconciler.nixos.knownhosts import KnownHosts, parse
from reconciler.nixos.machine import machine_name, parse_spec, resolve_flake
from reconciler.nixos.transfer import split_host
from reconciler.sandbox.netns import hosts_required
from reconciler.values import UNKNOWN
from reconciler.vars import VarsStore, ensure_host_key
from tests.hosts.flakes import TestSystem, write_flake
from tests.nixos.helpers import Journal

needs_nix = pytest.mark.skipif(shutil.which("nix") is None and not hosts_required(),
                               reason="needs nix (apt-get install nix-bin)")


def counting_nix(tmp_path: Path) -> tuple[str, Path]:
    """A `nix` that logs each start, then runs the real one."""
    log = tmp_path / "nix-starts.log"
    wrapper = tmp_path / "nix"
    real = shutil.which("nix")
    wrapper.write_text(f'#!/bin/sh\necho "nix $1 $2 $3 $4" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper), log


def deployed(name: str) -> RecordedResource:
    return RecordedResource(f"nixos_machine.{name}", "nixos_machine", name,
                            {"toplevel": "/nix/store/00000000000000000000000000000000-old", "target_host": "h"})


@needs_nix
def test_fresh_machines_plan_without_nix(tmp_path: Path, offline_nix: None) -> None:
    write_flake(tmp_path, {"a": TestSystem()})
    nix, log = counting_nix(tmp_path)
    prov = create_provider(ProviderConfig("nixos", {"nix": nix}, "l", tmp_path))
    (plan,) = prov.plan([PlanRequest("nixos_machine.a", "nixos_machine", {"target_host": "h", "flake": ".#a"}, None)])
    assert plan.planned["toplevel"] is UNKNOWN  # evaluated and built by the install
    assert not log.exists()


@needs_nix
def test_plan_evaluates_every_machine_with_one_nix_process(tmp_path: Path, offline_nix: None) -> None:
    names = [f"m{i}" for i in range(12)]
    write_flake(tmp_path, {n: TestSystem(str(i)) for i, n in enumerate(names)})
    nix, log = counting_nix(tmp_path)
    prov = create_provider(ProviderConfig("nixos", {"nix": nix}, "l", tmp_path))
    reqs = [PlanRequest(f"nixos_machine.{n}", "nixos_machine", {"target_host": "10.0.0.1", "flake": f".#{n}"},
                        deployed(n)) for n in names]
    plans = prov.plan(reqs)
    assert len(log.read_text().splitlines()) == 1
    assert prov.eval_processes == 1
    toplevels = [p.planned["toplevel"] for p in plans]
    assert len(set(toplevels)) == 12
    assert all(str(t).endswith(f"-nixos-system-{n}-{i}") for i, (n, t) in enumerate(zip(names, toplevels, strict=True)))
    assert plans[0].planned["target_user"] == "root" and plans[0].planned["target_port"] == 22


def recorded_with_flake(name: str, flake: str) -> RecordedResource:
    base = deployed(name)
    return RecordedResource(base.address, base.type, base.id, {**base.attributes, "flake": flake})


@needs_nix
def test_the_evaluation_started_before_the_plan_is_the_one_plan_uses(tmp_path: Path, offline_nix: None) -> None:
    names = ["a", "b", "c"]
    write_flake(tmp_path, {n: TestSystem(str(i)) for i, n in enumerate(names)})
    nix, log = counting_nix(tmp_path)
    prov = create_provider(ProviderConfig("nixos", {"nix": nix}, "l", tmp_path))
    prov.prepare_plan([recorded_with_flake(n, f".#{n}") for n in names])
    reqs = [PlanRequest(f"nixos_machine.{n}", "nixos_machine", {"target_host": "h", "flake": f".#{n}"},
                        recorded_with_flake(n, f".#{n}")) for n in names]
    plans = prov.plan(reqs)
    assert len(log.read_text().splitlines()) == 1 and prov.eval_processes == 1
    assert [str(p.planned["toplevel"]).rsplit("-", 2)[-2:] for p in plans] == [[n, str(i)] for i, n in
                                                                                enumerate(names)]


@needs_nix
def test_a_flake_changed_since_state_is_evaluated_as_configured(tmp_path: Path, offline_nix: None) -> None:
    write_flake(tmp_path, {"a": TestSystem("1"), "b": TestSystem("2")})
    nix, log = counting_nix(tmp_path)
    prov = create_provider(ProviderConfig("nixos", {"nix": nix}, "l", tmp_path))
    prov.prepare_plan([recorded_with_flake("a", ".#a")])  # state says .#a; the configuration now says .#b
    (plan,) = prov.plan([PlanRequest("nixos_machine.a", "nixos_machine", {"target_host": "h", "flake": ".#b"},
                                     recorded_with_flake("a", ".#a"))])
    assert str(plan.planned["toplevel"]).endswith("-nixos-system-b-2")
    assert prov.eval_processes == 2 and len(log.read_text().splitlines()) == 2  # the early one, unused


@needs_nix
def test_plan_reports_an_evaluation_error(tmp_path: Path, offline_nix: None) -> None:
    write_flake(tmp_path, {"a": TestSystem()})
    prov = create_provider(ProviderConfig("nixos", {}, "l", tmp_path))
    req = PlanRequest("nixos_machine.b", "nixos_machine", {"target_host": "h", "flake": ".#b"}, deployed("b"))
    with pytest.raises(CommandError, match="evaluating") as err:
        prov.plan([req])
    assert "b" in err.value.stderr


def test_plan_without_nix_leaves_toplevel_unknown(tmp_path: Path) -> None:
    prov = create_provider(ProviderConfig("nixos", {"nix": "/nonexistent/nix"}, "l", tmp_path))
    (plan,) = prov.plan([PlanRequest("nixos_machine.a", "nixos_machine", {"target_host": "h", "flake": ".#a"},
                                     deployed("a"))])
    assert plan.planned["toplevel"] is UNKNOWN
    assert any("not installed" in n for n in plan.notes)


def test_plan_pins_the_vars_host_key_or_says_it_will_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_AGE_IDENTITY", str(tmp_path / "id.txt"))
    prov = create_provider(ProviderConfig("nixos", {"nix": "/nonexistent/nix"}, "l", tmp_path))
    key = ensure_host_key(VarsStore(tmp_path / "vars"), "web-0")
    (a, b, c) = prov.plan([
        PlanRequest("nixos_machine.web[0]", "nixos_machine", {"target_host": "h"}, None),
        PlanRequest("nixos_machine.ext", "nixos_machine", {"target_host": "h", "install": [{"enabled": False}]}, None),
        PlanRequest("nixos_machine.fixed", "nixos_machine", {"target_host": "h", "host_key": "ssh-ed25519 AAAA"}, None),
    ])
    assert a.planned["host_key"] == key
    assert b.planned["host_key"] is UNKNOWN and any("first connection pins" in n for n in b.notes)
    assert c.planned["host_key"] == "ssh-ed25519 AAAA"


def test_unknown_setting_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="confirm_timout"):
        create_provider(ProviderConfig("nixos", {"confirm_timout": 3}, "l", tmp_path))


def test_machine_names_and_flakes(tmp_path: Path) -> None:
    assert machine_name("nixos_machine.cinnabar") == "cinnabar"
    assert machine_name("nixos_machine.web[2]") == "web-2"
    assert machine_name('nixos_machine.web["eu west"]') == "eu-west"  # the for_each key, made file-safe
    assert machine_name("module.x.nixos_machine.db") == "db"
    assert str(resolve_flake(".#cinnabar", "x", tmp_path)) == f"{tmp_path.resolve()}#cinnabar"
    assert str(resolve_flake(None, "web-2", tmp_path)) == f"{tmp_path.resolve()}#web-2"
    assert str(resolve_flake("github:o/r#m", "x", tmp_path)) == "github:o/r#m"
    assert resolve_flake("./sub#m", "x", tmp_path).installable == \
        f"{(tmp_path / 'sub').resolve()}#nixosConfigurations.m.config.system.build.toplevel"


def test_spec_defaults_and_nested_blocks(tmp_path: Path) -> None:
    spec = parse_spec("nixos_machine.a", {
        "target_host": "1.2.3.4",
        "install": [{"phases": ["install", "reboot"], "disk_encryption_keys": {"/tmp/k": "k"}}],
        "health_check": [{"command": "true"}],
    }, tmp_path)
    assert (spec.target_user, spec.target_port, spec.rollback) == ("root", 22, True)
    moved = parse_spec("nixos_machine.a", {"target_host": "admin@10.0.0.5:2222", "target_port": 22}, tmp_path)
    assert (moved.target_user, moved.target_host, moved.target_port) == ("admin", "10.0.0.5", 2222)
    assert spec.install.phases == ("install", "reboot")
    assert spec.install.disk_encryption_keys == (("/tmp/k", "k"),)
    assert spec.health_checks[0].command == "true" and spec.health_checks[0].timeout == 60


def test_install_resumes_after_the_phase_reached() -> None:
    phases = ("kexec", "disko", "install", "reboot")
    assert start_phase(phases, None) == 0
    assert start_phase(phases, "kexec") == 1
    assert start_phase(phases, "disko") == 2
    assert start_phase(phases, "reboot") == 0  # a complete install: a new VM is installed from the start
    assert start_phase(("install", "reboot"), "kexec") == 0


def test_known_installer_errors_are_explained() -> None:
    msg, hint = explain("kexec", "Warning: ...\nroot@1.2.3.4: Permission denied (publickey).\n")
    assert msg == "the target refused the SSH login" and hint is not None
    msg, _ = explain("disko", "error: disko: refusing to format /dev/vda: it holds an installed NixOS system")
    assert "refusing to reformat" in msg
    msg, _ = explain("install", "error: flake 'path:/x' does not provide attribute 'nixosConfigurations.q'")
    assert "no such nixosConfiguration" in msg
    assert explain("install", "something odd\nlast line\n") == ("last line", None)


def test_known_hosts_file_and_state_text(tmp_path: Path) -> None:
    kh = KnownHosts(tmp_path)
    kh.pin("b", "10.0.0.2", 2222, "ssh-ed25519 BBBB comment")
    kh.pin("a", "10.0.0.1", 22, "ssh-ed25519 AAAA")
    assert kh.text() == "10.0.0.1 ssh-ed25519 AAAA a\n[10.0.0.2]:2222 ssh-ed25519 BBBB b\n"
    kh.pin("a", "10.0.0.9", 22, "ssh-ed25519 AAAA")  # a machine moves: its line follows it
    assert parse(kh.text())["a"].host == "10.0.0.9"
    records = [RecordedResource("nixos_machine.a", "nixos_machine", "a",
                                {"target_host": "h", "host_key": "ssh-ed25519 K", "target_port": 22}),
               RecordedResource("hcloud_server.a", "hcloud_server", "1", {"ipv4_address": "h"})]
    assert known_hosts_from_state(records) == "h ssh-ed25519 K a\n"


def test_split_host() -> None:
    assert split_host("root@10.0.0.1") == ("root", "10.0.0.1", 22)
    assert split_host("build.example:2222") == (None, "build.example", 2222)
    assert split_host("u@[fd00::1]:22") == ("u", "fd00::1", 22)


def test_machine_selection() -> None:
    machines: dict[str, dict[str, Any]] = {
        "a": {"tags": ["web"]}, "b": {"tags": ["web", "eu"], "require_explicit_update": True}, "c": {"tags": []}}
    assert machines_to_update(machines) == ["a", "c"]
    assert machines_to_update(machines, ["b"]) == ["b"]
    assert machines_to_update(machines, ["web"]) == ["a", "b"]
    with pytest.raises(ReconcilerError, match="no machine or tag"):
        machines_to_update(machines, ["zzz"])


def test_install_of_a_machine_with_install_disabled_is_refused(tmp_path: Path) -> None:
    prov = create_provider(ProviderConfig("nixos", {}, "l", tmp_path))
    planned = {"target_host": "h", "install": [{"enabled": False}], "toplevel": "/nix/store/x"}
    request = ApplyRequest("nixos_machine.a", "nixos_machine", Action.INSTALL, planned, None)
    with pytest.raises(ProviderError, match="enabled = false"):
        asyncio.run(prov.apply(request, Journal()))
