"""The command line of the sandbox installer: exactly nixos-anywhere's (src/nixos-anywhere.sh, `parseArgs`),
parsed as it parses them. Each option takes the same number of values; the deprecated ones (`--build-on-remote`,
`--stop-after-disko`, `--no-reboot`, `-t`) warn as it warns; a bad `--phases`, `--disko-mode` or `--build-on`
value aborts with its message; a second positional argument prints the usage and exits 1. Options that the
sandbox cannot emulate (`--vm-test`, `--store-paths`, ...) are accepted by the parser and refused afterwards
with one line. Standard library only: the installer runs as a plain script too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

PHASES = ("kexec", "disko", "install", "reboot")

# option -> number of values it takes (nixos-anywhere's parseArgs)
TAKES: dict[str, int] = {
    "-f": 1, "--flake": 1, "--target-host": 1, "-i": 1, "-p": 1, "--ssh-port": 1, "--ssh-option": 1,
    "-L": 0, "--print-build-logs": 0, "-s": 2, "--store-paths": 2, "--generate-hardware-config": 2,
    "-t": 0, "--tty": 0, "--help": 0, "--kexec": 1, "--kexec-extract-path": 1, "--kexec-launch-path": 1,
    "--kexec-extra-flags": 1, "--ssh-store-setting": 2, "--post-kexec-ssh-port": 1, "--copy-host-keys": 0,
    "--show-trace": 0, "--debug": 0, "--disko-mode": 1, "--no-disko-deps": 0, "--build-on": 1,
    "--extra-files": 1, "--chown": 2, "--disk-encryption-keys": 2, "--phases": 1, "--stop-after-disko": 0,
    "--no-reboot": 0, "--from": 1, "--option": 2, "--no-substitute-on-destination": 0,
    "--no-use-machine-substituters": 0, "--build-on-remote": 0, "--env-password": 0, "--vm-test": 0,
}
# accepted by nixos-anywhere, but nothing the sandbox can do with them
NOT_EMULATED = ("-s", "--store-paths", "--generate-hardware-config", "--vm-test", "--env-password", "--from")

USAGE = "Usage: nixos-anywhere [options] [<ssh-host>]\n(the sandbox installer takes nixos-anywhere's options)"


class Abort(Exception):
    """nixos-anywhere's `abort`: "aborted: MESSAGE" on stderr, exit 1."""


@dataclass
class Options:
    flake: str = ""
    target: str = ""
    identity: str | None = None
    port: int = 22
    ssh_options: list[str] = field(default_factory=list)
    phases: tuple[str, ...] = PHASES
    extra_files: str | None = None
    chown: dict[str, str] = field(default_factory=dict)
    disk_encryption_keys: dict[str, str] = field(default_factory=dict)
    disko_mode: str = "disko"
    build_on: str = "auto"
    copy_host_keys: bool = False
    kexec: str | None = None
    debug: bool = False
    unsupported: list[str] = field(default_factory=list)


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse(argv: list[str]) -> Options:
    """Parse as nixos-anywhere does; raises Abort, or SystemExit for --help and a stray argument."""
    o = Options()
    build_on_remote = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg not in TAKES:
            if not o.target:
                o.target = arg
                i += 1
                continue
            print(USAGE)
            raise SystemExit(1)
        n = TAKES[arg]
        values = argv[i + 1:i + 1 + n]
        if len(values) < n:
            raise Abort(f"Missing arguments for {arg}")
        i += 1 + n
        if arg in ("-f", "--flake"):
            o.flake = values[0]
        elif arg == "--target-host":
            o.target = values[0]
        elif arg == "-i":
            o.identity = values[0]
        elif arg in ("-p", "--ssh-port"):
            o.port = int(values[0])
        elif arg == "--ssh-option":
            o.ssh_options.append(values[0])
        elif arg in ("-t", "--tty"):
            _warn(f"the '{arg}' flag is deprecated, a tty is now detected automatically")
        elif arg == "--help":
            print(USAGE)
            raise SystemExit(0)
        elif arg == "--kexec":
            o.kexec = values[0]
        elif arg == "--copy-host-keys":
            o.copy_host_keys = True
        elif arg == "--debug":
            o.debug = True
        elif arg == "--disko-mode":
            if values[0] not in ("format", "mount", "disko"):
                raise Abort("Supported values for --disko-mode are disko, mount and format. "
                            f"Unknown mode : {values[0]}")
            o.disko_mode = values[0]
        elif arg == "--build-on":
            if values[0] not in ("auto", "local", "remote"):
                raise Abort(f"Supported values for --build-on are auto, local and remote. Unknown mode : {values[0]}")
            o.build_on = values[0]
        elif arg == "--extra-files":
            o.extra_files = values[0]
        elif arg == "--chown":
            o.chown[values[0]] = values[1]
        elif arg == "--disk-encryption-keys":
            o.disk_encryption_keys[values[0]] = values[1]
        elif arg == "--phases":
            for phase in values[0].split(","):
                if phase not in PHASES:
                    raise Abort(f"Unknown phase: {phase}")
            o.phases = tuple(p for p in PHASES if p in values[0].split(","))
        elif arg == "--stop-after-disko":
            _warn("WARNING: --stop-after-disko is deprecated, use --phases kexec,disko instead")
            o.phases = ("kexec", "disko")
        elif arg == "--no-reboot":
            _warn("WARNING: --no-reboot is deprecated, use --phases kexec,disko,install instead")
            o.phases = ("kexec", "disko", "install")
        elif arg == "--build-on-remote":
            _warn("WARNING: --build-on-remote is deprecated, use --build-on remote instead")
            build_on_remote = True
            o.build_on = "remote"
        elif arg in NOT_EMULATED:
            o.unsupported.append(arg)
    if not o.target:
        raise Abort("ssh-host must be set")
    if o.build_on == "local" and build_on_remote:
        raise Abort("Conflicting flags: --build-on local and --build-on-remote used.")
    if o.flake and "#" not in o.flake:
        raise Abort("Please specify the name of the NixOS configuration to be installed, as a URI fragment in "
                    "the flake-uri.")
    if o.unsupported:
        raise Abort(f"the sandbox installer does not emulate {', '.join(o.unsupported)}")
    if not o.flake:
        raise Abort("the sandbox installer needs --flake")
    return o
