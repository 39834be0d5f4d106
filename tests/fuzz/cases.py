"""Hostile inputs for the fuzz test and bench/fuzz_crashes.py: configurations (HCL and Terraform JSON),
variable values and state documents, made from valid seeds by seeded mutations and by known-bad shapes
(deep nesting, huge counts and strings, device files, format widths, non-UTF-8 bytes).

Also the harness: run the CLI in this process (`reconciler.cli.main.main`) with its output captured and a
hang guard, and judge the outcome: exit 0 or 1, every error one line naming one of the case's files, no
traceback, no "internal error".
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HCL_SEED = """
variable "n" {
  type    = number
  default = 2
}
variable "names" {
  type    = set(string)
  default = ["a", "b"]
}
locals {
  labels = { fleet = "fuzz", owner = "ops" }
  text   = format("%s-%03d", "web", 7)
}
provider "hcloud" {
  token    = "t"
  endpoint = "http://127.0.0.1:9/v1"
}
resource "hcloud_server" "web" {
  count       = var.n
  name        = "web-${count.index}"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
  labels      = merge(local.labels, { role = "web" })
}
resource "hcloud_server" "named" {
  for_each    = var.names
  name        = "n-${each.key}"
  server_type = "cx23"
  image       = "debian-12"
  user_data   = <<-EOT
    #cloud-config
    %{ for k, v in local.labels ~}
    ${k}: ${v}
    %{ endfor ~}
  EOT
}
resource "nixos_machine" "m" {
  target_host = hcloud_server.web[0].ipv4_address
  flake       = ".#m"
  tags        = ["all"]
}
output "ips" {
  value = [for s in hcloud_server.web : s.ipv4_address]
}
"""

JSON_SEED: dict[str, Any] = {
    "variable": {"n": {"type": "number", "default": 1}},
    "provider": {"hcloud": {"token": "t", "endpoint": "http://127.0.0.1:9/v1"}},
    "resource": {"hcloud_server": {"web": {"count": "${var.n}", "name": "web-${count.index}",
                                           "server_type": "cx23", "image": "debian-12",
                                           "labels": {"a": "${upper(\"x\")}"}}}},
    "output": {"n": {"value": "${length(hcloud_server.web)}"}},
}

# pieces that broke parsers, evaluators or memory before; each mutation may splice some in
HOSTILE = [
    "[" * 1000 + "]" * 1000, "(" * 1000 + "1" + ")" * 1000, "{a=" * 500 + "1" + "}" * 500,
    " + ".join(["1"] * 3000), "!" * 3000 + "true", "count = 1e9", "count = -1", "count = 1.5",
    'for_each = toset([for i in range(200000) : tostring(i)])', 'x = file("/dev/zero")',
    'x = file("/proc/self/mem")', 'x = file(".")', 'x = format("%10000000000d", 1)',
    'x = format("%.99999999f", 1)', '"' + "a" * 1_000_000 + '"', '"' + "\\n" * (2**16) + '"',
    "${" * 300, "%{ if true }" * 200, "<<EOT\n" + "x\n" * 10, "\x00", "\ufeff", "\udcff", "\r\n",
    "# " + "é" * 100, "resource", "variable", "dynamic", "lifecycle { prevent_destroy = true }",
    'depends_on = [hcloud_server.web]', "x = 1e308 * 10", 'x = jsondecode("' + "[" * 2000 + '")',
    "x = " + "[" * 150 + "]" * 150, 'x = "${' + "(" * 400 + "1" + ")" * 400 + '}"',
]


@dataclass(frozen=True)
class Case:
    """One fuzz input: files to write into a fresh directory and the CLI arguments to run."""

    files: dict[str, bytes]
    args: tuple[str, ...]
    names: tuple[str, ...] = field(default=())  # file names an error line may name


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        i = rng.randint(0, len(text))
        j = min(len(text), i + rng.randint(0, 80))
        if kind == 0:
            text = text[:i] + text[j:]  # delete a span
        elif kind == 1:
            text = text[:i] + text[i:j] * rng.randint(2, 50) + text[j:]  # repeat a span
        elif kind == 2:
            text = text[:i] + rng.choice(HOSTILE) + text[i:]  # splice in a known-bad piece
        elif kind == 3:
            text = text[:i] + "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 20))) + text[i:]
        elif kind == 4:
            text = text[:i]  # truncate
        else:
            line = rng.choice(HOSTILE)
            text = text + ("\nlocals {\n  x = " + line + "\n}\n" if not line.startswith(("count", "x =")) else
                           '\nresource "hcloud_server" "f" {\n  ' + line + '\n  name = "f"\n  server_type = "cx23"'
                           '\n  image = "debian-12"\n}\n')
    return text


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 6 else 4)
    if kind == 0:
        return rng.choice([None, True, False, 0, -1, 2**70, 1e308, "", "x" * rng.randint(0, 5000)])
    if kind == 1:
        return rng.choice(["${var.n}", "${" * 50, "%{", "${file(\"/dev/zero\")}", "\n" * 100, "é"])
    if kind == 2:
        return rng.randint(-10, 10**12)
    if kind == 3:
        return "".join(chr(rng.randint(32, 0x24F)) for _ in range(rng.randint(0, 30)))
    if kind in (4, 5):
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["resource", "variable", "count", "for_each", "x", "hcloud_server", "name", ""]) +
            str(rng.randint(0, 3)): _json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _mutate_json(doc: Any, rng: random.Random) -> str:
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        node = doc
        for _ in range(rng.randint(0, 3)):
            if isinstance(node, dict) and node:
                key = rng.choice(sorted(node))
                if not isinstance(node[key], dict | list) or rng.random() < 0.4:
                    node[key] = _json_value(rng)
                    break
                node = node[key]
            elif isinstance(node, list) and node:
                node[rng.randrange(len(node))] = _json_value(rng)
                break
        else:
            if isinstance(node, dict):
                node[rng.choice(["resource", "locals", "x", "variable"])] = _json_value(rng)
    text = json.dumps(doc)
    if rng.random() < 0.3:
        text = _mutate(text, rng)
    return text


STATE_SEED: dict[str, Any] = {
    "version": 1, "serial": 4, "lineage": "0d6c5b0e-5a4b-4d0e-9a43-3f7f0d2f9c11", "reconciler_version": "0.1",
    "resources": {'hcloud_server.named["a"]': {"type": "hcloud_server", "id": "7", "attributes": {
        "name": "n-a", "server_type": "cx23", "image": "debian-12", "location": "fsn1", "labels": {},
        "ipv4_address": "192.0.2.7"}, "dependencies": []}},
    "outputs": {"ips": {"value": ["192.0.2.7"], "sensitive": False}},
}

STATE_BAD: list[bytes] = [
    b"\xff\xfe\x00", json.dumps({**STATE_SEED, "version": "1"}).encode(),
    json.dumps({**STATE_SEED, "serial": "four"}).encode(), json.dumps({**STATE_SEED, "serial": None}).encode(),
    json.dumps({**STATE_SEED, "resources": []}).encode(), json.dumps({**STATE_SEED, "outputs": "x"}).encode(),
    ('{"version": 1, "serial": 1, "lineage": "l", "resources": {"a.b": {"type": "a", "attributes": {"x": '
     + "[" * 100_000 + "]" * 100_000 + "}}}}").encode(),
    b"[" * 100_000, b"", b"null", b"{}",
]


def config_case(rng: random.Random) -> Case:
    """A mutated configuration, validated (or planned offline) with a mutated variable now and then."""
    args: list[str] = ["validate"] if rng.random() < 0.7 else ["plan", "--no-refresh"]
    if rng.random() < 0.2:
        args += ["--var", "n=" + rng.choice(["1e9", "-1", "x", "[" * 500, "\n" * 1000, "2", "1" * 5000])]
    if rng.random() < 0.1:  # the seed as it is: only the variable, if any, is hostile
        return Case({"main.tf": HCL_SEED.encode()}, tuple(args), ("main.tf",))
    if rng.random() < 0.5:
        return Case({"main.tf": _mutate(HCL_SEED, rng).encode("utf-8", "surrogatepass")}, tuple(args), ("main.tf",))
    return Case({"main.tf.json": _mutate_json(JSON_SEED, rng).encode("utf-8", "surrogatepass")}, tuple(args),
                ("main.tf.json",))


def state_case(rng: random.Random) -> Case:
    """A valid configuration with a damaged state document, planned offline or shown."""
    if rng.random() < 0.4:
        raw = rng.choice(STATE_BAD)
    else:
        raw = _mutate_json(STATE_SEED, rng).encode("utf-8", "surrogatepass")
    args = rng.choice([("plan", "--no-refresh"), ("show",), ("state", "list"), ("output",)])
    return Case({"main.tf": HCL_SEED.encode(), "reconciler.state.json": raw}, args,
                ("main.tf", "reconciler.state.json"))


def var_file_case(rng: random.Random) -> Case:
    """A valid configuration with a hostile .tfvars or .tfvars.json file."""
    if rng.random() < 0.5:
        name, body = "fuzz.tfvars", _mutate('n = 3\nnames = ["x", "y"]\n', rng)
    else:
        name, body = "fuzz.tfvars.json", _mutate_json({"n": 3, "names": ["x"]}, rng)
    return Case({"main.tf": HCL_SEED.encode(), name: body.encode("utf-8", "surrogatepass")},
                ("validate", "--var-file", name), ("main.tf", name))


def any_case(seed: int) -> Case:
    rng = random.Random(seed)
    pick = rng.random()
    if pick < 0.6:
        return config_case(rng)
    if pick < 0.85:
        return state_case(rng)
    return var_file_case(rng)


@dataclass(frozen=True)
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    problems: tuple[str, ...]  # what is wrong with how the CLI behaved (empty: it behaved)


class Hang(BaseException):
    """Raised by the hang guard (a BaseException, so the CLI's own handlers do not swallow it)."""


@contextlib.contextmanager
def _guard(seconds: int) -> Iterator[None]:
    def alarm(*_: object) -> None:
        raise Hang()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_case(case: Case, directory: Path, timeout: int = 30) -> Outcome:
    """Write the case into `directory` (empty) and run the CLI on it in this process."""
    from reconciler.cli.main import main

    for name, data in case.files.items():
        (directory / name).write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    problems: list[str] = []
    try:
        with _guard(timeout), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*case.args, "-C", str(directory), "--no-color"])
    except Hang:
        problems.append(f"hang: no answer within {timeout} s")
    except SystemExit as e:
        code = int(e.code) if isinstance(e.code, int) else 1
    stderr = err.getvalue()
    if code not in (0, 1) and not problems:
        problems.append(f"exit code {code}")
    if "Traceback" in stderr:
        problems.append("traceback")
    for line in stderr.splitlines():
        if "internal error" in line:
            problems.append("crash: " + line[:200])
        elif line.startswith("error: ") and not any(n in line for n in case.names) and not _fileless_ok(line):
            problems.append("error names no file: " + line[:200])
        elif not line.startswith(("error: ", "warning: ")):
            problems.append("stray stderr line: " + line[:200])
        if len(line) > 1000:
            problems.append(f"error line of {len(line)} characters")
    return Outcome(code, out.getvalue(), stderr, tuple(problems))


def _fileless_ok(line: str) -> bool:
    """Errors about the command line rather than a file ("--var n=...") may name the option instead."""
    return "--var" in line or "variable" in line
