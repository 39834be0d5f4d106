"""Pause Python's cyclic garbage collector while a loader builds a large tree of objects that all survive.

Building ~10^5 frozen nodes triggers repeated full collections that scan everything built so far and
find nothing to free; for a 20,000-resource file that is most of the load time. Reference counting
still frees temporaries while paused; the collector is re-enabled (if it was on) when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
