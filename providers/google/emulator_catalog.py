"""The fixed catalogue the Compute Engine emulator serves: regions and zones, machine types (with the GPUs
that G2 and A2 types carry built in) and accelerator types per zone, shaped like the v1 REST resources.

The data is a small, plausible subset of the real catalogue, enough for the provider's code paths: zones
that offer a GPU and zones that do not, shared-core and standard types, types with bundled accelerators.
"""

from __future__ import annotations

import zlib
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
    accelerator: str | None = None  # GPUs built into the type (G2, A2)
    accelerator_count: int = 0


@dataclass(frozen=True)
class AcceleratorType:
    name: str
    description: str
    max_per_instance: int
    quota_metric: str  # the regional quota it counts against
    zones: frozenset[str]


def _standard(prefix: str, sizes: tuple[int, ...], mb_per_cpu: int) -> list[MachineType]:
    return [MachineType(f"{prefix}-{n}", n, n * mb_per_cpu) for n in sizes]


MACHINE_TYPES: dict[str, MachineType] = {m.name: m for m in [
    MachineType("e2-micro", 2, 1024, shared_cpu=True),
    MachineType("e2-small", 2, 2048, shared_cpu=True),
    MachineType("e2-medium", 2, 4096, shared_cpu=True),
    *_standard("e2-standard", (2, 4, 8, 16, 32), 4096),
    *_standard("e2-highmem", (2, 4, 8, 16), 8192),
    *_standard("n1-standard", (1, 2, 4, 8, 16, 32), 3840),
    *_standard("n2-standard", (2, 4, 8, 16, 32, 48, 64), 4096),
    *_standard("n2-highmem", (2, 4, 8, 16, 32), 8192),
    MachineType("g2-standard-4", 4, 16384, accelerator="nvidia-l4", accelerator_count=1),
    MachineType("g2-standard-8", 8, 32768, accelerator="nvidia-l4", accelerator_count=1),
    MachineType("g2-standard-12", 12, 49152, accelerator="nvidia-l4", accelerator_count=1),
    MachineType("g2-standard-16", 16, 65536, accelerator="nvidia-l4", accelerator_count=1),
    MachineType("g2-standard-24", 24, 98304, accelerator="nvidia-l4", accelerator_count=2),
    MachineType("g2-standard-32", 32, 131072, accelerator="nvidia-l4", accelerator_count=1),
    MachineType("g2-standard-48", 48, 196608, accelerator="nvidia-l4", accelerator_count=4),
    MachineType("g2-standard-96", 96, 393216, accelerator="nvidia-l4", accelerator_count=8),
    MachineType("a2-highgpu-1g", 12, 87040, accelerator="nvidia-tesla-a100", accelerator_count=1),
    MachineType("a2-highgpu-2g", 24, 174080, accelerator="nvidia-tesla-a100", accelerator_count=2),
    MachineType("a2-highgpu-4g", 48, 348160, accelerator="nvidia-tesla-a100", accelerator_count=4),
    MachineType("a2-highgpu-8g", 96, 696320, accelerator="nvidia-tesla-a100", accelerator_count=8),
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
    AcceleratorType("nvidia-tesla-a100", "NVIDIA A100 40GB", 16, "NVIDIA_A100_GPUS", _zones(
        "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f", "us-east1-b", "europe-west4-a",
        "europe-west4-b", "asia-southeast1-b", "asia-southeast1-c")),
]}


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
