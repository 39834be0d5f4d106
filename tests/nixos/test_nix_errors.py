"""nix's real cause reaches the user: the innermost `error:` line, not the `--show-trace` hint after it."""

from __future__ import annotations

from reconciler.nixos.nixcmd import Result, failure, nix_error

NESTED = """\
error:
       … while calling the 'getFlake' builtin
         at «string»:3:72:
            2|   req = builtins.fromJSON (builtins.getEnv "RECONCILER_EVAL_REQUEST");
       … while evaluating the attribute 'inventory'

       error: path '/src/fleet/inventory.json' is not part of a flake
(use '--show-trace' to show detailed location information)
"""


def test_the_innermost_error_line_is_the_message() -> None:
    assert nix_error(NESTED) == "path '/src/fleet/inventory.json' is not part of a flake"
    err = failure("evaluating the NixOS configurations of cinnabar", Result(("nix", "eval"), 1, "", NESTED))
    assert err.message == ("evaluating the NixOS configurations of cinnabar: "
                           "path '/src/fleet/inventory.json' is not part of a flake")


def test_without_an_error_line_the_last_line_but_not_the_hint() -> None:
    err = failure("building x", Result(("nix", "build"), 1, "", "something broke\n(use '--show-trace' to show)\n"))
    assert err.message == "building x: something broke"
    assert failure("x", Result(("nix",), 3, "", "")).message == "x: exit code 3"
