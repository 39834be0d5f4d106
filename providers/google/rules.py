"""What Compute Engine would refuse in a `google_compute_instance`, found offline from the dated catalogue
before any call: the machine type exists; GPUs match the machine series (N1 takes T4, V100, P100 and P4
in the counts its vCPUs allow; A2, G2 and A3 come with their A100, L4 or H100 built in and take no
others; the other series take none) and are offered in the zone; the boot disk type is one the series
takes; the image has one of Terraform's forms; labels, metadata keys and the Spot/preemptible settings
follow the API's rules. Each problem names the attribute (for the file and line) and the allowed choices.
Values not known yet are skipped; they are checked again at plan and apply time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from providers.base import ConfigProblem
from providers.google.attributes import OWNERSHIP_KEYS, candidate_zones, short
from providers.google.catalog import Catalog, MachineType, catalog
from providers.google.images import FORMS_HINT, ImageRef
from reconciler.suggest import closest

MAX_LABELS = 64
METADATA_KEY = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
METADATA_VALUE_BYTES = 256 * 1024
METADATA_TOTAL_BYTES = 512 * 1024
GPU_SERIES = {"nvidia-tesla-a100": "A2", "nvidia-a100-80gb": "A2", "nvidia-l4": "G2", "nvidia-h100-80gb": "A3",
              "nvidia-h100-mega-80gb": "A3"}


def _block(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = config.get(name)
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return value if isinstance(value, Mapping) else {}


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _choices(names: Iterable[str]) -> str:
    return ", ".join(names)


def _fixed_types(cat: Catalog, gpu: str) -> str:
    return _choices(f"{m.name} ({m.gpus[gpu]})" for m in cat.fixed_gpu_types(gpu))


def _machine(cat: Catalog, machine: str) -> tuple[MachineType | None, list[ConfigProblem]]:
    gone = cat.retired_machine_types.get(machine)
    if gone is not None:
        return None, [ConfigProblem("machine_type", f'machine_type "{machine}" is no longer offered (unavailable '
                                    f"after {gone.unavailable_after})", f"use {gone.successor}")]
    known = cat.machine_types.get(machine)
    if known is not None or cat.series_of(machine) is not None:
        return known, []
    close = closest(machine, cat.machine_types, n=3)
    hint = f"did you mean {' or '.join(close)}?" if close else "see `gcloud compute machine-types list`"
    return None, [ConfigProblem("machine_type", f'machine_type "{machine}" is not in the Compute Engine catalogue '
                                f"of {cat.date}", hint + " (a newer type: refresh the catalogue)")]


def _requested_gpus(config: Mapping[str, Any]) -> dict[str, int] | None:
    """type -> count from the guest_accelerator blocks; None when any of it is not known yet."""
    blocks = config.get("guest_accelerator")
    if blocks is None:
        return {}
    if not isinstance(blocks, list):
        return None
    out: dict[str, int] = {}
    for block in blocks:
        if not isinstance(block, Mapping):
            return None
        type_, count = short(block.get("type")), block.get("count")
        if not isinstance(type_, str) or not isinstance(count, int):
            return None
        out[type_] = out.get(type_, 0) + count
    return out


def _gpu_problems(cat: Catalog, machine: str, mtype: MachineType | None, gpus: Mapping[str, int],
                  zones: list[str]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def bad(message: str, hint: str | None = None) -> None:
        problems.append(ConfigProblem("guest_accelerator", message, hint))

    for gpu in gpus:
        if gpu in cat.retired_accelerators:
            old = cat.retired_accelerators[gpu]
            bad(f"{gpu} is no longer offered (unavailable after {old.unavailable_after})", f"use {old.successor}")
        elif gpu not in cat.accelerators:
            bad(f'unknown accelerator type "{gpu}"', f"choose one of {_choices(sorted(cat.accelerators))}")
    if problems or not gpus:
        return problems
    if len(gpus) > 1:
        bad(f"an instance takes one accelerator type, not {_choices(sorted(gpus))}")
        return problems
    [(gpu, count)] = gpus.items()
    series = cat.series_of(machine)
    n1 = cat.series.get("n1")
    n1_gpus = _choices(sorted(n1.gpus)) if n1 else ""
    if mtype is not None and mtype.gpus:
        if dict(mtype.gpus) != {gpu: count}:
            [(own, own_count)] = mtype.gpus.items()
            want = f"for {count} x {gpu} choose one of {_fixed_types(cat, gpu)}" if gpu in GPU_SERIES else \
                f"{gpu} attaches to N1 machine types"
            bad(f"{machine} comes with {own_count} x {own} built in and takes no other GPUs "
                f"(asked for {count} x {gpu})", f"leave guest_accelerator out, or {want}")
        return problems
    if series is not None and series.name == "n1" and series.gpus and (mtype is None or not mtype.shared_cpu):
        limits = series.gpus.get(gpu)
        if limits is None:
            bad(f"{machine} (N1) cannot take {gpu}: it comes built into {GPU_SERIES.get(gpu, 'other')} machine types: "
                f"{_fixed_types(cat, gpu)}", f"N1 takes {n1_gpus}")
        elif count not in limits:
            bad(f"{count} x {gpu} is not allowed on N1", f"allowed counts: {_choices(str(c) for c in sorted(limits))}")
        elif mtype is not None and mtype.vcpus > limits[count]:
            fits = [str(c) for c, most in sorted(limits.items()) if mtype.vcpus <= most]
            bad(f"{machine} has {mtype.vcpus} vCPUs, too many for {count} x {gpu} (at most {limits[count]})",
                f"with {mtype.vcpus} vCPUs take {' or '.join(fits)} x {gpu}" if fits else "choose a smaller N1 type")
    else:
        label = (series.name.upper() if series else machine)
        bad(f"{machine} ({label}) takes no GPUs",
            f"GPUs attach to N1 ({n1_gpus}) or come built into A2 (A100), G2 (L4) and A3 (H100) machine types")
    if problems:
        return problems
    offered = cat.accelerators[gpu]
    for zone in zones:
        if zone in cat.zones and zone not in offered:
            bad(f"{gpu} is not offered in zone {zone}",
                f"zones offering it: {_choices(sorted(offered))}")
    return problems


def _disk_problems(cat: Catalog, machine: str, config: Mapping[str, Any]) -> list[ConfigProblem]:
    disk = _known_str(_block(_block(config, "boot_disk"), "initialize_params").get("type"))
    series = cat.series_of(machine)
    if disk is None or series is None or disk in series.disks:
        return []
    return [ConfigProblem("boot_disk", f"boot disk type {disk} is not offered for {machine} "
                          f"({series.name.upper()})", f"choose one of {_choices(series.disks)} "
                          f"(the default, when type is left out, is {series.default_disk})")]


def _image_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    image = _known_str(_block(_block(config, "boot_disk"), "initialize_params").get("image"))
    if image is None or ImageRef.parse(image) is not None:
        return []
    return [ConfigProblem("boot_disk", f'image "{image}" has none of the forms Compute Engine accepts', FORMS_HINT)]


def _label_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    labels = config.get("labels")
    if not isinstance(labels, Mapping):
        return []
    problems = []
    reserved = sorted(OWNERSHIP_KEYS & set(labels))
    if reserved:
        problems.append(ConfigProblem("labels", f"label {reserved[0]} is reserved for reconciler's ownership labels",
                                      "rename the label"))
    if len(labels) + len(OWNERSHIP_KEYS) > MAX_LABELS:
        problems.append(ConfigProblem("labels", f"{len(labels)} labels are too many: an instance has at most "
                                      f"{MAX_LABELS}, and reconciler adds {len(OWNERSHIP_KEYS)}",
                                      f"keep at most {MAX_LABELS - len(OWNERSHIP_KEYS)} labels"))
    return problems


def _metadata_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    metadata = config.get("metadata")
    if not isinstance(metadata, Mapping):
        return []
    problems = []
    total = 0
    for key, value in metadata.items():
        if not METADATA_KEY.match(str(key)):
            problems.append(ConfigProblem("metadata", f'metadata key "{key}" is not allowed',
                                          "keys are 1 to 128 of the characters a-z A-Z 0-9 - _"))
        size = len(str(value).encode()) if isinstance(value, str) else 0
        total += size + len(str(key).encode())
        if size > METADATA_VALUE_BYTES:
            problems.append(ConfigProblem("metadata", f'metadata value of "{key}" is {size} bytes',
                                          f"values are at most {METADATA_VALUE_BYTES} bytes (256 KiB)"))
    if total > METADATA_TOTAL_BYTES:
        problems.append(ConfigProblem("metadata", f"metadata is {total} bytes in all",
                                      f"keys and values together are at most {METADATA_TOTAL_BYTES} bytes (512 KB)"))
    return problems


def _scheduling_problems(config: Mapping[str, Any]) -> list[ConfigProblem]:
    sched = _block(config, "scheduling")
    model, preemptible = sched.get("provisioning_model"), sched.get("preemptible")
    restart, ohm = sched.get("automatic_restart"), sched.get("on_host_maintenance")
    problems = []
    if preemptible is True and model == "STANDARD":
        problems.append(ConfigProblem("scheduling", "a preemptible instance cannot have provisioning_model STANDARD",
                                      'set provisioning_model = "SPOT" (or leave it out)'))
    if (model == "SPOT" or preemptible is True) and restart is True:
        problems.append(ConfigProblem("scheduling", "Spot and preemptible instances cannot restart automatically",
                                      "set automatic_restart = false (or leave it out)"))
    if (model == "SPOT" or preemptible is True) and ohm == "MIGRATE":
        problems.append(ConfigProblem("scheduling", "Spot and preemptible instances cannot live-migrate",
                                      'set on_host_maintenance = "TERMINATE" (or leave it out)'))
    return problems


def check_instance(config: Mapping[str, Any], default_zone: str | None = None,
                   cat: Catalog | None = None) -> list[ConfigProblem]:
    """Every problem found in one instance's evaluated configuration (values not known yet are skipped)."""
    cat = cat or catalog()
    problems: list[ConfigProblem] = []
    machine = _known_str(short(config.get("machine_type")))
    if machine is not None:
        mtype, unknown = _machine(cat, machine)
        problems += unknown
        gpus = _requested_gpus(config)
        if not unknown and gpus is not None:
            zones = candidate_zones(config, default_zone)
            problems += _gpu_problems(cat, machine, mtype, gpus, zones)
        if not unknown:
            problems += _disk_problems(cat, machine, config)
    problems += _image_problems(config)
    problems += _label_problems(config)
    problems += _metadata_problems(config)
    problems += _scheduling_problems(config)
    return problems
