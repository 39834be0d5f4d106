"""The fixed catalogue the Compute Engine emulator serves: regions and zones, machine types (with the GPUs
that G2 and A2 types carry built in) and accelerator types per zone, shaped like the v1 REST resources.

The data is a small, plausible subset of the real catalogue, enough for the provider's code paths: zones
that offer a GPU and zones that do not, shared-core and standard types, types with bundled accelerators.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

API_ROOT = "https://www.googleapis.com/compute/v1"

REGIONS: dict[str, tuple[str, ...]] = {
    "us-central1": ("a", "b", "c", "f"),
    "us-east1": ("b", "c", "d"),
    "europe-west1": ("b", "c", "d"),
    "europe-west4": ("a", "b", "c"),
    "asia-southeast1": ("a", "b", "c"),
}


@dataclass(frozen=True)
class MachineType:
    name: str
    cpus: int
    memory_mb: int
    shared_cpu: bool = False
    accelerator: str | None = None  # GPUs built into the type (G2, A2, A3)
    accelerator_count: int = 0

    @property
    def family(self) -> str:
        return self.name.split("-", 1)[0]


@dataclass(frozen=True)
class AcceleratorType:
    name: str
    description: str
    max_per_instance: int
    quota_metric: str  # the regional quota it counts against
    zones: frozenset[str]


def _shape(family: str, shape: str, gb_per_cpu: float, sizes: tuple[int, ...]) -> list[MachineType]:
    return [MachineType(f"{family}-{shape}-{n}", n, int(n * gb_per_cpu * 1024)) for n in sizes]


def _gpu_types(family: str, shape: str, gpu: str, rows: tuple[tuple[str, int, int, int], ...]) -> list[MachineType]:
    """rows: (suffix, vCPUs, memory GB, GPUs)."""
    return [MachineType(f"{family}-{shape}-{suffix}", cpus, gb * 1024, accelerator=gpu, accelerator_count=n)
            for suffix, cpus, gb, n in rows]


# From the machine family reference (cloud.google.com/compute/docs/machine-resource), 2026.
MACHINE_TYPES: dict[str, MachineType] = {m.name: m for m in [
    MachineType("e2-micro", 2, 1024, shared_cpu=True),
    MachineType("e2-small", 2, 2048, shared_cpu=True),
    MachineType("e2-medium", 2, 4096, shared_cpu=True),
    MachineType("f1-micro", 1, 614, shared_cpu=True),
    MachineType("g1-small", 1, 1740, shared_cpu=True),
    *_shape("e2", "standard", 4, (2, 4, 8, 16, 32)),
    *_shape("e2", "highmem", 8, (2, 4, 8, 16)),
    *_shape("e2", "highcpu", 1, (2, 4, 8, 16, 32)),
    *_shape("n1", "standard", 3.75, (1, 2, 4, 8, 16, 32, 64, 96)),
    *_shape("n1", "highmem", 6.5, (2, 4, 8, 16, 32, 64, 96)),
    *_shape("n1", "highcpu", 0.9, (2, 4, 8, 16, 32, 64, 96)),
    *_shape("n2", "standard", 4, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
    *_shape("n2", "highmem", 8, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128)),
    *_shape("n2", "highcpu", 1, (2, 4, 8, 16, 32, 48, 64, 80, 96)),
    *_shape("n2d", "standard", 4, (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224)),
    *_shape("c3", "standard", 4, (4, 8, 22, 44, 88, 176)),
    *_shape("c3", "highcpu", 2, (4, 8, 22, 44, 88, 176)),
    *_shape("n4", "standard", 4, (2, 4, 8, 16, 32, 48, 64, 80)),
    *_shape("n4", "highmem", 8, (2, 4, 8, 16, 32, 48, 64, 80)),
    *_shape("c4", "standard", 3.75, (2, 4, 8, 16, 32, 48, 96, 192)),
    *_gpu_types("g2", "standard", "nvidia-l4", (("4", 4, 16, 1), ("8", 8, 32, 1), ("12", 12, 48, 1),
                                                ("16", 16, 64, 1), ("24", 24, 96, 2), ("32", 32, 128, 1),
                                                ("48", 48, 192, 4), ("96", 96, 384, 8))),
    *_gpu_types("a2", "highgpu", "nvidia-tesla-a100", (("1g", 12, 85, 1), ("2g", 24, 170, 2), ("4g", 48, 340, 4),
                                                       ("8g", 96, 680, 8))),
    *_gpu_types("a2", "megagpu", "nvidia-tesla-a100", (("16g", 96, 1360, 16),)),
    *_gpu_types("a2", "ultragpu", "nvidia-a100-80gb", (("1g", 12, 170, 1), ("2g", 24, 340, 2), ("4g", 48, 680, 4),
                                                       ("8g", 96, 1360, 8))),
    *_gpu_types("a3", "highgpu", "nvidia-h100-80gb", (("1g", 26, 234, 1), ("2g", 52, 468, 2), ("4g", 104, 936, 4),
                                                      ("8g", 208, 1872, 8))),
    *_gpu_types("a3", "megagpu", "nvidia-h100-mega-80gb", (("8g", 208, 1872, 8),)),
]}


def _zones(*names: str) -> frozenset[str]:
    return frozenset(names)


ACCELERATOR_TYPES: dict[str, AcceleratorType] = {a.name: a for a in [
    AcceleratorType("nvidia-l4", "NVIDIA L4", 8, "NVIDIA_L4_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-east1-b", "us-east1-d", "europe-west1-b",
        "europe-west1-c", "europe-west4-a", "europe-west4-b", "europe-west4-c", "asia-southeast1-a",
        "asia-southeast1-b")),
    AcceleratorType("nvidia-tesla-t4", "NVIDIA T4", 4, "NVIDIA_T4_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f", "us-east1-c", "us-east1-d",
        "europe-west1-b", "europe-west1-d", "europe-west4-a", "europe-west4-b", "europe-west4-c",
        "asia-southeast1-a", "asia-southeast1-b", "asia-southeast1-c")),
    AcceleratorType("nvidia-tesla-v100", "NVIDIA V100", 8, "NVIDIA_V100_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f", "europe-west4-a", "europe-west4-b",
        "europe-west4-c", "asia-southeast1-c")),
    AcceleratorType("nvidia-tesla-p100", "NVIDIA Tesla P100", 4, "NVIDIA_P100_GPUS", _zones(
        "us-central1-c", "us-central1-f", "us-east1-b", "us-east1-c", "europe-west1-b", "europe-west1-d",
        "europe-west4-a", "asia-southeast1-b")),
    AcceleratorType("nvidia-tesla-p4", "NVIDIA Tesla P4", 4, "NVIDIA_P4_GPUS", _zones(
        "us-central1-a", "us-central1-c", "us-east1-c", "us-east1-d", "europe-west4-b", "europe-west4-c",
        "asia-southeast1-b", "asia-southeast1-c")),
    AcceleratorType("nvidia-tesla-a100", "NVIDIA A100 40GB", 16, "NVIDIA_A100_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f", "us-east1-b", "europe-west4-a",
        "europe-west4-b", "asia-southeast1-b", "asia-southeast1-c")),
    AcceleratorType("nvidia-a100-80gb", "NVIDIA A100 80GB", 8, "NVIDIA_A100_80GB_GPUS", _zones(
        "us-central1-a", "us-central1-c", "us-east1-b", "europe-west4-a", "asia-southeast1-c")),
    AcceleratorType("nvidia-h100-80gb", "NVIDIA H100 80GB", 8, "NVIDIA_H100_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-east1-b", "us-east1-d", "europe-west1-b",
        "europe-west4-b", "europe-west4-c", "asia-southeast1-b", "asia-southeast1-c")),
    AcceleratorType("nvidia-h100-mega-80gb", "NVIDIA H100 Mega 80GB", 8, "NVIDIA_H100_MEGA_GPUS", _zones(
        "us-central1-a", "us-central1-c", "us-east1-b", "europe-west4-b", "asia-southeast1-b")),
]}

# N1 and the GPUs attached to it: (accelerator, count) -> the most vCPUs the machine type may have
# (cloud.google.com/compute/docs/gpus, "N1 general-purpose machine family with GPUs").
N1_GPU_LIMITS: dict[tuple[str, int], int] = {
    ("nvidia-tesla-t4", 1): 48, ("nvidia-tesla-t4", 2): 48, ("nvidia-tesla-t4", 4): 96,
    ("nvidia-tesla-p4", 1): 24, ("nvidia-tesla-p4", 2): 48, ("nvidia-tesla-p4", 4): 96,
    ("nvidia-tesla-v100", 1): 12, ("nvidia-tesla-v100", 2): 24, ("nvidia-tesla-v100", 4): 48,
    ("nvidia-tesla-v100", 8): 96,
    ("nvidia-tesla-p100", 1): 16, ("nvidia-tesla-p100", 2): 32, ("nvidia-tesla-p100", 4): 64,
}

# Disk types (cloud.google.com/compute/docs/disks) and the ones each family's boot disk may be.
DISK_TYPES = {"pd-standard": ("Standard Persistent Disk", 10), "pd-balanced": ("Balanced Persistent Disk", 10),
              "pd-ssd": ("SSD Persistent Disk", 10), "pd-extreme": ("Extreme Persistent Disk", 500),
              "hyperdisk-balanced": ("Hyperdisk Balanced", 4), "hyperdisk-extreme": ("Hyperdisk Extreme", 64),
              "hyperdisk-throughput": ("Hyperdisk Throughput", 2048), "hyperdisk-ml": ("Hyperdisk ML", 4)}
_PD = ("pd-standard", "pd-balanced", "pd-ssd")
FAMILY_DISKS: dict[str, tuple[str, ...]] = {
    "e2": _PD, "f1": _PD, "g1": _PD, "n1": _PD, "n2": (*_PD, "pd-extreme", "hyperdisk-extreme", "hyperdisk-throughput"),
    "n2d": (*_PD, "hyperdisk-throughput"), "a2": (*_PD, "hyperdisk-ml"),
    "c3": ("pd-balanced", "pd-ssd", "hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-throughput"),
    "n4": ("hyperdisk-balanced", "hyperdisk-throughput"),
    "c4": ("hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-throughput"),
    "g2": ("pd-balanced", "pd-ssd", "hyperdisk-ml", "hyperdisk-throughput"),
    "a3": ("pd-balanced", "pd-ssd", "hyperdisk-balanced", "hyperdisk-extreme", "hyperdisk-ml", "hyperdisk-throughput"),
}

# Public images: project -> {image name: family}; each family resolves to its newest image (the last listed).
PUBLIC_IMAGES: dict[str, dict[str, str]] = {
    "debian-cloud": {"debian-12-bookworm-v20251111": "debian-12", "debian-12-bookworm-v20260101": "debian-12",
                     "debian-13-trixie-v20260101": "debian-13"},
    "ubuntu-os-cloud": {"ubuntu-2204-jammy-v20260101": "ubuntu-2204-lts",
                        "ubuntu-2404-noble-amd64-v20260101": "ubuntu-2404-lts-amd64"},
    "cos-cloud": {"cos-121-18867-90-38": "cos-121-lts"},
}


def all_zones() -> list[str]:
    return [f"{region}-{letter}" for region, letters in REGIONS.items() for letter in letters]


def region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def stable_id(*parts: str) -> str:
    """A stable uint64-looking id (as the API writes them: a decimal string) for a catalogue entry."""
    return str(1_000_000_000_000 + zlib.crc32("/".join(parts).encode()))


def zone_offers_machine_type(zone: str, machine_type: MachineType) -> bool:
    if machine_type.accelerator is None:
        return True
    return zone in ACCELERATOR_TYPES[machine_type.accelerator].zones


def accelerators_in(zone: str) -> list[AcceleratorType]:
    return [a for a in ACCELERATOR_TYPES.values() if zone in a.zones]


def zone_resource(project: str, zone: str) -> dict[str, object]:
    region = region_of(zone)
    return {
        "kind": "compute#zone", "id": stable_id("zone", zone), "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
        "name": zone, "description": zone, "status": "UP",
        "region": f"{API_ROOT}/projects/{project}/regions/{region}",
        "selfLink": f"{API_ROOT}/projects/{project}/zones/{zone}",
        "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan"], "supportsPzs": False,
    }


def machine_type_resource(project: str, zone: str, m: MachineType) -> dict[str, object]:
    out: dict[str, object] = {
        "kind": "compute#machineType", "id": stable_id("machineType", m.name), "name": m.name,
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00",
        "description": f"{m.cpus} vCPUs, {m.memory_mb / 1024:g} GB RAM", "guestCpus": m.cpus,
        "memoryMb": m.memory_mb, "imageSpaceGb": 0, "maximumPersistentDisks": 128,
        "maximumPersistentDisksSizeGb": "263168", "zone": zone, "isSharedCpu": m.shared_cpu,
        "selfLink": f"{API_ROOT}/projects/{project}/zones/{zone}/machineTypes/{m.name}",
    }
    if m.accelerator:
        out["accelerators"] = [{"guestAcceleratorType": m.accelerator, "guestAcceleratorCount": m.accelerator_count}]
    return out


def accelerator_type_resource(project: str, zone: str, a: AcceleratorType) -> dict[str, object]:
    return {
        "kind": "compute#acceleratorType", "id": stable_id("acceleratorType", a.name),
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00", "name": a.name, "description": a.description,
        "zone": f"{API_ROOT}/projects/{project}/zones/{zone}", "maximumCardsPerInstance": a.max_per_instance,
        "selfLink": f"{API_ROOT}/projects/{project}/zones/{zone}/acceleratorTypes/{a.name}",
    }


def disk_type_resource(project: str, zone: str, name: str) -> dict[str, object]:
    description, smallest = DISK_TYPES[name]
    return {
        "kind": "compute#diskType", "id": stable_id("diskType", name), "name": name, "description": description,
        "creationTimestamp": "1969-12-31T16:00:00.000-08:00", "validDiskSize": f"{smallest}GB-65536GB",
        "defaultDiskSizeGb": str(max(smallest, 10)), "zone": f"{API_ROOT}/projects/{project}/zones/{zone}",
        "selfLink": f"{API_ROOT}/projects/{project}/zones/{zone}/diskTypes/{name}",
    }


def image_resource(project: str, name: str, own: Mapping[str, str] | None = None) -> dict[str, object]:
    family = PUBLIC_IMAGES.get(project, own or {}).get(name, "")
    return {
        "kind": "compute#image", "id": stable_id("image", project, name), "name": name, "family": family,
        "creationTimestamp": "2026-01-01T00:00:00.000-08:00", "status": "READY", "sourceType": "RAW",
        "diskSizeGb": "10", "architecture": "X86_64",
        "selfLink": f"{API_ROOT}/projects/{project}/global/images/{name}",
    }
