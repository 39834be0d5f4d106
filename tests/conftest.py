"""Every test run keeps its parse cache (reconciler.config.parse_cache) in a directory of its own, not in the
user's ~/.cache; subprocesses started by the tests inherit it through the environment."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("RECONCILER_CACHE_DIR", tempfile.mkdtemp(prefix="reconciler-test-cache-"))
