"""The 2026 catalogue and its plan-time rules: deprecated types warn with their dates, unavailable ones are
refused naming the successor, types not offered in a location are refused naming the choices; the
emulator's own catalogue agrees with the provider's table on every type, location and deprecation."""

from __future__ import annotations

from datetime import date

import pytest

from providers.base import PlanRequest, RecordedResource
from providers.hcloud import catalog as catalogs
from providers.hcloud.emu_catalog import SERVER_TYPES, UNAVAILABLE_AFTER
from providers.hcloud.server_attrs import plan_server

CAT = catalogs.bundled()
BEFORE_REMOVAL = date(2025, 11, 1)  # deprecated, still orderable
AFTER_REMOVAL = date(2026, 12, 1)


def plan(config: dict[str, object], prior: RecordedResource | None = None, today: date = AFTER_REMOVAL):
    base = {"name": "web", "image": "debian-12", **config}
    return plan_server(PlanRequest("hcloud_server.web", "hcloud_server", base, prior), CAT, today)


def kept(server_type: str, location: str) -> RecordedResource:
    attrs: dict[str, object] = {
        "name": "web", "server_type": server_type, "image": "debian-12", "location": location, "id": "7",
             "ipv4_address": "203.0.113.7", "ipv6_address": "2001:db8::1", "status": "running", "labels": {},
             "ssh_keys": [], "user_data": None, "firewall_ids": [], "backups": False,
             "public_net": [{"ipv4_enabled": True, "ipv6_enabled": True}]}
    return RecordedResource("hcloud_server.web", "hcloud_server", "7", attrs,
                            {"architecture": "x86", "primary_disk_size": 40})


def test_current_types_plan_clean_everywhere_they_are_offered() -> None:
    for name in ("cx23", "cx33", "cx43", "cx53", "cax11", "cpx22", "ccx13"):
        spec = CAT.get(name)
        assert spec is not None and not spec.deprecations
        for loc in spec.locations:
            resp = plan({"server_type": name, "location": loc})
            assert not resp.problems and not resp.warnings, (name, loc)


def test_creating_an_unavailable_type_is_refused_naming_the_successor() -> None:
    resp = plan({"server_type": "cx22", "location": "fsn1"})
    [problem] = resp.problems
    assert problem.attribute == "server_type"
    assert "announced 2025-10-16" in problem.message and "after 2025-12-31" in problem.message
    assert problem.hint == "use cx23, its successor"
    [gen1] = plan({"server_type": "cpx31", "locations": ["nbg1", "hel1"]}).problems
    assert gen1.hint == "use cpx32, its successor"


def test_before_the_removal_date_a_create_only_warns_with_the_date() -> None:
    resp = plan({"server_type": "cx22", "location": "nbg1"}, today=BEFORE_REMOVAL)
    assert not resp.problems
    assert resp.warnings == ("hcloud_server.web: server type cx22 is deprecated (announced 2025-10-16, no new "
                             "servers after 2025-12-31); use cx23, its successor",)


def test_cpx_gen1_is_still_sold_in_the_us() -> None:
    resp = plan({"server_type": "cpx11", "location": "ash"})
    assert not resp.problems and not resp.warnings
    # a list of fallbacks that still has an orderable location is planned, with the warning for the others
    mixed = plan({"server_type": "cpx11", "locations": ["fsn1", "ash"]})
    assert not mixed.problems


def test_a_kept_deprecated_server_warns_and_is_not_replaced() -> None:
    resp = plan({"server_type": "cx22", "location": "fsn1"}, prior=kept("cx22", "fsn1"))
    assert not resp.problems and resp.requires_replace == ()
    [warning] = resp.warnings
    assert "cx22 is deprecated (announced 2025-10-16, no new servers after 2025-12-31)" in warning
    assert "keeps running" in warning and "cx23" in warning


def test_a_replacement_of_a_deprecated_server_is_refused() -> None:
    resp = plan({"server_type": "cx22", "location": "fsn1", "image": "ubuntu-24.04"}, prior=kept("cx22", "fsn1"))
    assert resp.requires_replace == ("image",)
    assert [p.attribute for p in resp.problems] == ["server_type"]


def test_rescale_to_an_unavailable_type_is_refused_and_to_its_successor_planned() -> None:
    refused = plan({"server_type": "cx32", "location": "fsn1"}, prior=kept("cx23", "fsn1"))
    assert [p.attribute for p in refused.problems] == ["server_type"] and "rescaled" in refused.problems[0].message
    fine = plan({"server_type": "cx33", "location": "fsn1"}, prior=kept("cx22", "fsn1"))
    assert not fine.problems and fine.requires_replace == ()


@pytest.mark.parametrize(("config", "attribute", "hint"), [
    ({"server_type": "cx23", "location": "ash"}, "location", "cx23 is offered in fsn1, hel1, nbg1; types offered "
                                                             "in ash: ccx13"),
    ({"server_type": "cax11", "locations": ["hel1", "sin"]}, "locations", "cax11 is offered in fsn1, hel1, nbg1"),
    ({"server_type": "cx999", "location": "fsn1"}, "server_type", "one of "),
])
def test_type_not_offered_or_unknown_names_the_choices(config: dict[str, object], attribute: str, hint: str) -> None:
    [problem] = plan(config).problems
    assert problem.attribute == attribute and problem.hint is not None and problem.hint.startswith(hint)


def test_the_emulator_catalogue_agrees_with_the_provider_table() -> None:
    emu = {t.name: t for t in SERVER_TYPES}
    assert set(emu) == set(CAT.types)
    for name, spec in CAT.types.items():
        other = emu[name]
        assert (other.id, other.cores, other.memory, other.disk, other.architecture) == (
            spec.id, spec.cores, spec.memory, spec.disk, spec.architecture), name
        assert set(other.net) == set(spec.prices), name
        assert set(other.deprecated_in) == set(spec.deprecations), name
        for loc in spec.prices:
            assert other.net[loc] == pytest.approx(spec.prices[loc].monthly_net, abs=0.011), (name, loc)
        for dep in spec.deprecations.values():
            assert dep.unavailable_after.isoformat() == UNAVAILABLE_AFTER[:10]
