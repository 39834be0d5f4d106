"""The whole life of servers and SSH keys through the real hcloud client against the emulator: create, a
re-plan that changes nothing, in-place updates and a rescale, toggle off (delete) and on (create again),
import by id, and offline prices."""

from __future__ import annotations

import pytest

from providers.base import ApplyRequest, ImportRequest, RefreshRequest
from providers.hcloud.emulator import Emulator
from reconciler.actions import Action
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN

from .conftest import LINEAGE, Journal, create, make_provider, owned_servers, plan_one, recorded, run, server_config

ADDR = "hcloud_server.web"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example"


def test_create_then_replan_is_a_noop(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    config = server_config(backups=True, public_net=[{"ipv4_enabled": True}])
    planned = plan_one(provider, ADDR, config, None)
    assert planned.planned["id"] is UNKNOWN and planned.planned["ipv4_address"] is UNKNOWN
    assert planned.planned["labels"] == {"role": "web"} and planned.planned["ssh_keys"] == []

    journal = Journal()
    created = run(create(provider, ADDR, config, journal))
    assert created.attributes["status"] == "running"
    assert created.attributes["ipv4_address"].startswith("127.1.")
    assert created.attributes["public_net"] == [{"ipv4_enabled": True}]
    assert journal.records[0][0] == created.id and journal.intents["name"] == "web"

    [server] = owned_servers(emulator)
    assert server["labels"]["managed-by"] == "reconciler"
    assert server["labels"]["reconciler-lineage"] == LINEAGE
    assert server["labels"]["role"] == "web"
    assert server["backup_window"] is not None
    assert "managed-by" not in created.attributes["labels"]  # ownership labels never show as a diff

    fresh = make_provider(emulator)  # a new run: nothing cached
    answer = run(fresh.refresh(RefreshRequest((recorded(ADDR, created),), ())))
    assert set(answer.found) == {ADDR} and not answer.gone and not answer.adopted
    observed = answer.found[ADDR]
    assert dict(observed.attributes) == dict(created.attributes)
    again = plan_one(fresh, ADDR, config, recorded(ADDR, observed))
    assert again.requires_replace == ()
    changed = {k for k in set(again.planned) | set(observed.attributes)
               if again.planned.get(k) != observed.attributes.get(k)}
    assert changed == set()


def test_toggle_off_and_on(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    config = server_config()
    created = run(create(provider, ADDR, config))
    gone = run(provider.apply(ApplyRequest(ADDR, "hcloud_server", Action.DELETE, dict(created.attributes),
                                           recorded(ADDR, created)), Journal()))
    assert gone.id is None and owned_servers(emulator) == []
    request = RefreshRequest((recorded(ADDR, created),), ((ADDR, "hcloud_server"),))
    answer = run(make_provider(emulator).refresh(request))
    assert answer.gone == frozenset({ADDR}) and not answer.adopted

    back = run(create(make_provider(emulator), ADDR, config))
    assert back.id != created.id and back.attributes["name"] == "web"
    assert len(owned_servers(emulator)) == 1


def test_update_in_place_and_rescale(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    created = run(create(provider, ADDR, server_config()))
    config = server_config(name="web-renamed", labels={"role": "db"}, server_type="cx33", backups=True)
    plan = plan_one(provider, ADDR, config, recorded(ADDR, created))
    assert plan.requires_replace == ()
    assert any("rescale in place" in n for n in plan.notes)

    journal = Journal()
    updated = run(provider.apply(ApplyRequest(ADDR, "hcloud_server", Action.UPDATE, config, recorded(ADDR, created)),
                                 journal))
    assert updated.id == created.id
    assert updated.attributes["server_type"] == "cx33" and updated.attributes["status"] == "running"
    assert updated.attributes["name"] == "web-renamed" and updated.attributes["labels"] == {"role": "db"}
    assert updated.attributes["backups"] is True
    assert updated.private["primary_disk_size"] == 80
    counts = emulator.request_counts
    assert counts["POST /servers/{id}/actions/poweroff"] == 1 and counts["POST /servers/{id}/actions/poweron"] == 1
    [server] = owned_servers(emulator)
    assert server["labels"]["reconciler-address"]  # a relabel keeps the ownership labels

    smaller = plan_one(provider, ADDR, dict(config, server_type="cx23"), recorded(ADDR, updated))
    assert smaller.requires_replace == ("server_type",)
    assert any("cannot shrink" in n for n in smaller.notes)
    arm = plan_one(provider, ADDR, dict(config, server_type="cax41"), recorded(ADDR, updated))
    assert arm.requires_replace == ("server_type",) and any("architecture" in n for n in arm.notes)


def test_replacing_attributes(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    created = run(create(provider, ADDR, server_config(user_data="#cloud-config\n")))
    prior = recorded(ADDR, created)
    for change, attr in ((dict(image="debian-12"), "image"), (dict(location="nbg1"), "location"),
                         (dict(user_data="#cloud-config\npackages: [git]\n"), "user_data"),
                         (dict(ssh_keys=["admin"]), "ssh_keys"),
                         (dict(public_net=[{"ipv4_enabled": False}]), "public_net")):
        plan = plan_one(provider, ADDR, server_config(**{"user_data": "#cloud-config\n", **change}), prior)
        assert plan.requires_replace == (attr,), change
        assert plan.planned["id"] is UNKNOWN
    unknown_key = plan_one(provider, ADDR, server_config(user_data="#cloud-config\n", ssh_keys=[UNKNOWN]), prior)
    assert unknown_key.requires_replace == ("ssh_keys",)


def test_ssh_key_and_server_using_it(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    key = run(create(provider, "hcloud_ssh_key.admin", {"name": "admin", "public_key": KEY + "\n"},
                     type_="hcloud_ssh_key"))
    assert key.attributes["fingerprint"].count(":") == 15
    assert key.attributes["public_key"] == KEY + "\n"  # as configured
    server = run(create(provider, ADDR, server_config(ssh_keys=[key.id])))
    assert server.attributes["ssh_keys"] == [key.id]

    answer = run(make_provider(emulator).refresh(RefreshRequest(
        (recorded("hcloud_ssh_key.admin", key, "hcloud_ssh_key"), recorded(ADDR, server)), ())))
    assert set(answer.found) == {"hcloud_ssh_key.admin", ADDR}
    assert dict(answer.found["hcloud_ssh_key.admin"].attributes) == dict(key.attributes)
    replan = plan_one(provider, "hcloud_ssh_key.admin", {"name": "admin", "public_key": KEY + "\n"},
                      recorded("hcloud_ssh_key.admin", answer.found["hcloud_ssh_key.admin"], "hcloud_ssh_key"),
                      "hcloud_ssh_key")
    assert replan.requires_replace == () and replan.planned["fingerprint"] == key.attributes["fingerprint"]
    renamed = run(provider.apply(ApplyRequest("hcloud_ssh_key.admin", "hcloud_ssh_key", Action.UPDATE,
                                              {"name": "root", "public_key": KEY, "labels": {"team": "ops"}},
                                              recorded("hcloud_ssh_key.admin", key, "hcloud_ssh_key")), Journal()))
    assert renamed.attributes["name"] == "root" and renamed.attributes["labels"] == {"team": "ops"}
    [stored] = emulator.ssh_keys()
    assert stored["labels"]["managed-by"] == "reconciler" and stored["labels"]["team"] == "ops"
    deleted = run(provider.apply(ApplyRequest("hcloud_ssh_key.admin", "hcloud_ssh_key", Action.DELETE, {},
                                              recorded("hcloud_ssh_key.admin", renamed, "hcloud_ssh_key")), Journal()))
    assert deleted.id is None and emulator.ssh_keys() == []


def test_import_by_id_then_refresh_finds_it_without_labels(emulator: Emulator) -> None:
    other = make_provider(emulator, lineage="someone-elses-state")
    made = run(create(other, "hcloud_server.legacy", server_config(name="legacy")))
    provider = make_provider(emulator)
    imported = run(provider.import_resource(ImportRequest(ADDR, "hcloud_server", made.id or "")))
    assert imported.id == made.id and imported.attributes["name"] == "legacy"
    assert imported.attributes["labels"] == {"role": "web"}
    answer = run(provider.refresh(RefreshRequest((recorded(ADDR, imported),), ())))
    assert set(answer.found) == {ADDR}  # not in the label listing, found by its own GET
    # ssh_keys/user_data cannot be read back: the configured values are taken, never a replacement
    refreshed = recorded(ADDR, answer.found[ADDR])
    plan = plan_one(provider, ADDR, server_config(name="legacy", ssh_keys=["admin"]), refreshed)
    assert plan.requires_replace == ()
    assert any("cannot be read back" in n for n in plan.notes)


def test_prices_offline_and_from_the_api(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    offline = provider.price("hcloud_server", {"server_type": "cx23", "location": "fsn1"})
    assert offline is not None and offline.currency == "EUR" and "prices.json" in offline.source
    assert offline.monthly == round(5.49 * 1.19, 4)
    us = provider.price("hcloud_server", {"server_type": "cpx11", "locations": ["ash"]})
    eu = provider.price("hcloud_server", {"server_type": "cpx11", "location": "nbg1"})
    assert us is not None and eu is not None and us.monthly > eu.monthly
    assert provider.price("hcloud_server", {"server_type": "no-such-type"}) is None
    assert provider.price("hcloud_ssh_key", {"name": "k"}) is not None
    run(provider.refresh(RefreshRequest((), ((ADDR, "hcloud_server"),))))
    online = provider.price("hcloud_server", {"server_type": "cx23", "location": "fsn1"})
    assert online is not None and online.source.startswith("api /server_types")
    assert emulator.request_counts.get("GET /server_types") == 1


def test_plan_refuses_conflicting_location_settings_and_reserved_labels(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    with pytest.raises(ProviderError) as err:
        plan_one(provider, ADDR, server_config(locations=["nbg1"]), None)
    assert "either location or locations" in err.value.message
    with pytest.raises(ProviderError) as err:
        plan_one(provider, ADDR, server_config(labels={"managed-by": "me"}), None)
    assert "reserved" in err.value.message and "managed-by" in err.value.message
    assert emulator.total_requests == 0  # planning is offline
