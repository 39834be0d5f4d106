"""`python -m reconciler` runs the CLI."""

import gc

gc.disable()  # from the first import on: see reconciler.cli.main.run, which resumes it when the command starts

from reconciler.cli.main import run  # noqa: E402

run()
