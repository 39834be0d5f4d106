"""Every bad input: exit 1, one short line per problem naming file and line, no traceback, nothing written."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from reconciler.cli.main import main
from tests.bad_inputs.corpus import CASES


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "files", "args", "where", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path: Path, name: str, files: dict[str, str], args: list[str], where: str,
                   fragment: str) -> None:
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    out, err = io.StringIO(), io.StringIO()
    argv = [a.replace("{dir}", str(tmp_path)) for a in args] + ["-C", str(tmp_path), "--no-color"]
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    text = err.getvalue()
    assert code == 1, f"exit {code}; stderr: {text!r}; stdout: {out.getvalue()!r}"
    assert "Traceback" not in text and "internal error" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), text
    assert all(len(line) < 300 for line in lines), text
    assert any(where in line and fragment in line for line in lines), text
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before, "a bad input must not write anything"
