"""The sandbox installer takes exactly nixos-anywhere's options and refuses the rest as it does: a bad value
aborts with its message, a deprecated option warns, an unknown option is taken as the host once and then
prints the usage, and what the sandbox cannot emulate is refused in one line."""

from __future__ import annotations

import pytest

from reconciler.sandbox.installer import run, toplevel_installable
from reconciler.sandbox.installer_args import PHASES, Abort, parse

BASE = ["--flake", ".#m", "--target-host", "root@10.0.0.1"]


def test_the_options_the_reconciler_passes() -> None:
    o = parse([*BASE, "--phases", "kexec,disko", "--extra-files", "/x", "--ssh-port", "2222", "-i", "/k",
               "--build-on", "remote", "--disk-encryption-keys", "/tmp/k", "/local/k", "--kexec", "url"])
    assert o.phases == ("kexec", "disko") and o.extra_files == "/x" and o.port == 2222 and o.identity == "/k"
    assert o.build_on == "remote" and o.disk_encryption_keys == {"/tmp/k": "/local/k"} and o.kexec == "url"
    assert parse(BASE).phases == PHASES


def test_deprecated_options_warn_as_nixos_anywhere_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse([*BASE, "--build-on-remote"]).build_on == "remote"
    assert "--build-on-remote is deprecated, use --build-on remote instead" in capsys.readouterr().err
    assert parse([*BASE, "--no-reboot"]).phases == ("kexec", "disko", "install")
    with pytest.raises(Abort, match="Conflicting flags"):
        parse([*BASE, "--build-on-remote", "--build-on", "local"])


@pytest.mark.parametrize(("argv", "message"), [
    ([*BASE, "--phases", "kexec,format"], "Unknown phase: format"),
    ([*BASE, "--build-on", "cloud"], "Unknown mode : cloud"),
    ([*BASE, "--disko-mode", "wipe"], "Unknown mode : wipe"),
    (["--flake", ".#m"], "ssh-host must be set"),
    (["--flake", ".", "root@h"], "as a URI fragment"),
    ([*BASE, "--vm-test"], "does not emulate --vm-test"),
    ([*BASE, "--chown"], "Missing arguments for --chown"),
])
def test_bad_values_abort(argv: list[str], message: str) -> None:
    with pytest.raises(Abort, match=message):
        parse(argv)


def test_an_unknown_option_is_the_host_once_then_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(["--flake", ".#m", "root@h"]).target == "root@h"
    with pytest.raises(SystemExit) as caught:
        parse([*BASE, "--frobnicate"])
    assert caught.value.code == 1 and "Usage: nixos-anywhere" in capsys.readouterr().out


def test_run_prints_aborted_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--phases", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "aborted: Unknown phase: nope"


def test_flake_attribute_as_nixos_anywhere_reads_it() -> None:
    assert toplevel_installable("/f#m") == '/f#nixosConfigurations."m".config.system.build.toplevel'
    assert toplevel_installable("/f#nixosConfigurations.m.config") == \
        "/f#nixosConfigurations.m.config.system.build.toplevel"
