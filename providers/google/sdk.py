"""The parts of google-cloud-compute the provider uses, imported without the rest of the SDK.

`import google.cloud.compute_v1` runs the package's `__init__`, which imports every one of its ~90 service
clients: about 1.6 s of CPU here. The provider needs six (instances, zone operations, accelerator, machine
and disk types, images) and the message types they share (`types/compute.py`, one 160,000-line module
that alone costs about 0.7 s).
So `load()` registers the `google.cloud.compute_v1` package without running its `__init__`
and imports only those modules. The package stays whole for anyone else: the first lookup of a name it
lacks runs the real `__init__` (a module `__getattr__`), so `from google.cloud import compute_v1` elsewhere
in the process still finds every client. (On Python 3.15 the SDK's own `__lazy_modules__` does the same.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

PACKAGE = "google.cloud.compute_v1"
SERVICES = {
    "InstancesClient": "instances",
    "ZoneOperationsClient": "zone_operations",
    "AcceleratorTypesClient": "accelerator_types",
    "ImagesClient": "images",
    "MachineTypesClient": "machine_types",
    "DiskTypesClient": "disk_types",
}

_lock = threading.Lock()
_loaded: SimpleNamespace | None = None


def _package() -> ModuleType:
    """`google.cloud.compute_v1`, registered without running its `__init__` unless something already ran it."""
    existing = sys.modules.get(PACKAGE)
    if existing is not None:
        return existing
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None:
        raise ImportError(f"{PACKAGE} is not installed")
    package = importlib.util.module_from_spec(spec)
    complete = threading.Lock()

    def __getattr__(name: str) -> Any:  # the whole package on first use of anything we did not load
        if any((Path(p) / name).is_dir() or (Path(p) / f"{name}.py").is_file() for p in package.__path__):
            raise AttributeError(name)  # a submodule: `from PACKAGE import name` then imports just that
        with complete:
            if "__getattr__" in vars(package):
                del package.__getattr__
                assert spec.loader is not None
                spec.loader.exec_module(package)
        return vars(package)[name] if name in vars(package) else object.__getattribute__(package, name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    parent = importlib.import_module("google.cloud")
    parent.compute_v1 = package  # type: ignore[attr-defined]
    return package


def load() -> SimpleNamespace:
    """A namespace with the six clients and every message type (`Instance`, `InsertInstanceRequest`, ...),
    used as `compute_v1.X` is."""
    global _loaded
    with _lock:
        if _loaded is None:
            _package()
            types = importlib.import_module(f"{PACKAGE}.types.compute")
            names = {k: v for k, v in vars(types).items() if not k.startswith("_")}
            for client, module in SERVICES.items():
                names[client] = getattr(importlib.import_module(f"{PACKAGE}.services.{module}"), client)
            _loaded = SimpleNamespace(**names)
        return _loaded
