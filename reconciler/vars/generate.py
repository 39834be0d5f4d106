"""Run `vars` generators: built-ins (`ssh_host_key`, `password`, `random_hex`) and scripts run with `$out`
(where they write their files) and `$in` (their dependencies' files, as `$in/GENERATOR/FILE`), storing
public files as values and secret ones age-encrypted (to the recipients and the machine's own host key)."""

from __future__ import annotations

import os
import secrets as pysecrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from reconciler.errors import CommandError, ConfigError, SourcePos
from reconciler.vars.private_tmp import scratch
from reconciler.vars.ssh_host_key import GENERATOR as HOST_KEY
from reconciler.vars.ssh_host_key import ensure_host_key, public_host_key
from reconciler.vars.store import VarsStore

BUILTIN_DEFAULT_FILE = {"password": "password", "random_hex": "hex"}


@dataclass(frozen=True)
class FileSpec:
    name: str
    secret: bool


@dataclass(frozen=True)
class Generator:
    name: str
    machines: tuple[str, ...] | None  # None: every machine (or those with `tags`)
    tags: tuple[str, ...]
    share: bool
    dependencies: tuple[str, ...]
    files: tuple[FileSpec, ...]
    script: str | None
    builtin: str | None
    pos: SourcePos

    def applies_to(self, machine: str, tags: Sequence[str]) -> bool:
        if self.machines is not None:
            return machine in self.machines
        if self.tags:
            return any(t in tags for t in self.tags) or "all" in self.tags
        return True


def order(generators: Mapping[str, Generator]) -> list[str]:
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(generators)
    for name, gen in generators.items():
        for dep in gen.dependencies:
            if dep not in generators and dep != HOST_KEY:
                raise ConfigError(f'vars "{name}" depends on unknown generator "{dep}"', gen.pos)
            if dep in generators:
                g.add_edge(dep, name)
    if not nx.is_directed_acyclic_graph(g):
        cycle = [u for u, _ in nx.find_cycle(g)]
        raise ConfigError("vars dependency cycle: " + " -> ".join([*cycle, cycle[0]]),
                          generators[cycle[0]].pos)
    return list(nx.lexicographical_topological_sort(g))


def _complete(store: VarsStore, machine: str, gen: Generator) -> bool:
    for f in gen.files:
        present = store.has_secret(machine, gen.name, f.name) if f.secret else \
            store.get_public(machine, gen.name, f.name) is not None
        if not present:
            return False
    return True


def _run_script(gen: Generator, store: VarsStore, machine: str, workdir: Path) -> dict[str, bytes]:
    tmp = scratch(workdir, "vars-")  # plaintext only in the configuration's private tmp, never $TMPDIR
    known: list[bytes] = []  # every secret this run handed to or got from the script: kept out of errors
    try:
        out, inp = tmp / "out", tmp / "in"
        out.mkdir()
        inp.mkdir()
        for dep in gen.dependencies:
            (inp / dep).mkdir()
            for vf in store.files(machine):
                if vf.generator != dep:
                    continue
                data = store.get_secret(machine, dep, vf.file) if vf.secret else \
                    (store.get_public(machine, dep, vf.file) or "").encode()
                known.append(data)
                (inp / dep / vf.file).write_bytes(data)
        env = {**os.environ, "out": str(out), "in": str(inp)}
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", gen.script or ""], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            known += [p.read_bytes() for p in out.rglob("*") if p.is_file()]
            stderr = redact(proc.stderr, known)
            last = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
            raise CommandError(f'vars "{gen.name}" for {machine}: the script failed (exit {proc.returncode}): '
                               f"{last}", argv=["bash", "-c", "<script>"], exit_code=proc.returncode, stderr=stderr)
        result = {}
        for f in gen.files:
            path = out / f.name
            if not path.is_file():
                raise CommandError(f'vars "{gen.name}" for {machine}: the script did not write $out/{f.name}')
            result[f.name] = path.read_bytes()
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def redact(text: str, secrets: Sequence[bytes]) -> str:
    """`text` with every secret value (and every line of a multi-line one) replaced by `<redacted>`."""
    pieces: set[str] = set()
    for raw in secrets:
        value = raw.decode("utf-8", "replace")
        pieces.add(value.strip())
        pieces.update(line.strip() for line in value.splitlines())
    for piece in sorted((p for p in pieces if p), key=len, reverse=True):
        text = text.replace(piece, "<redacted>")
    return text


def _builtin(gen: Generator) -> dict[str, bytes]:
    out = {}
    for f in gen.files:
        if gen.builtin == "password":
            out[f.name] = pysecrets.token_urlsafe(18).encode()
        else:
            out[f.name] = pysecrets.token_hex(16).encode()
    return out


def generate(store: VarsStore, generators: Mapping[str, Generator], machines: Mapping[str, Sequence[str]],
             workdir: Path, *, regenerate: bool = False) -> list[tuple[str, str]]:
    """Generate what is missing (or everything with `regenerate`) for `machines` (name -> tags).

    Returns the (machine, generator) pairs that were generated.
    """
    done: list[tuple[str, str]] = []
    shared: dict[str, dict[str, bytes]] = {}
    for machine in sorted(machines):
        if regenerate or public_host_key(store, machine) is None:
            ensure_host_key(store, machine, regenerate=regenerate)
            done.append((machine, HOST_KEY))
    for name in order(generators):
        gen = generators[name]
        for machine in sorted(machines):
            if not gen.applies_to(machine, machines[machine]):
                continue
            if not regenerate and _complete(store, machine, gen):
                continue
            if gen.share and name in shared:
                values = shared[name]
            elif gen.builtin == "ssh_host_key":
                ensure_host_key(store, machine, regenerate=regenerate)
                done.append((machine, name))
                continue
            else:
                values = _builtin(gen) if gen.builtin else _run_script(gen, store, machine, workdir)
                if gen.share:
                    shared[name] = values
            host_key = public_host_key(store, machine)
            for f in gen.files:
                if f.secret:
                    store.set_secret(machine, name, f.name, values[f.name],
                                     extra_recipients=[host_key] if host_key else [])
                else:
                    store.set_public(machine, name, f.name, values[f.name].decode())
            done.append((machine, name))
    return done
