"""Parts of the plan renderings no golden case reaches: drift with its values (text and Terraform's
resource_drift), outputs in `Changes to Outputs:` and `output_changes`, and a saved plan that keeps both
outputs and `configuration` for `show --json PLANFILE`."""

from __future__ import annotations

import json

from reconciler.plan.drift import Drift
from reconciler.plan.model import OutputChange, Plan
from reconciler.plan.planfile import plan_from_json, plan_to_json
from reconciler.plan.render_json import render_json
from reconciler.plan.render_text import render_text
from reconciler.values import UNKNOWN

CHANGED = Drift("hcloud_server.web", "changed", "changed outside reconciler: labels", "hcloud_server",
                {"id": "1", "name": "web", "labels": {"a": "1"}}, {"id": "1", "name": "web", "labels": {"a": "2"}})
DELETED = Drift("hcloud_server.db", "deleted", "deleted outside reconciler", "hcloud_server", {"id": "2", "name": "db"})


def plan(**kw: object) -> Plan:
    return Plan("lineage", 3, True, (), {}, {}, **kw)  # type: ignore[arg-type]  # only the fields under test


def test_drift_shows_values_in_text_and_as_resource_changes() -> None:
    text = render_text(plan(drift=(CHANGED, DELETED), refresh_only=True))
    assert text.startswith("Note: Objects have changed outside of reconciler\n")
    assert '  # hcloud_server.web has changed\n  ~ resource "hcloud_server" "web" {\n' in text
    assert '          ~ "a" = "1" -> "2"\n' in text
    assert ('  # hcloud_server.db has been deleted\n  - resource "hcloud_server" "db" {\n'
            '      - id   = "2" -> null\n') in text
    doc = render_json(plan(drift=(CHANGED, DELETED), refresh_only=True))
    changed, deleted = doc["resource_drift"]
    assert changed["change"]["actions"] == ["update"] and changed["change"]["after"]["labels"] == {"a": "2"}
    assert deleted["change"]["actions"] == ["delete"] and deleted["change"]["after"] is None
    assert changed["provider_name"] == "registry.terraform.io/hetznercloud/hcloud"


def test_outputs_show_as_terraform_shows_them() -> None:
    outputs = (OutputChange("ip", None, UNKNOWN), OutputChange("name", "a", "b", recorded=True),
               OutputChange("secret", "x", "y", sensitive=True, recorded=True),
               OutputChange("same", 1, 1, recorded=True))
    text = render_text(plan(outputs=outputs))
    assert text.endswith('Changes to Outputs:\n  + ip     = (known after apply)\n  ~ name   = "a" -> "b"\n'
                         '  ~ secret = (sensitive value) -> (sensitive value)\n')
    changes = render_json(plan(outputs=outputs))["output_changes"]
    assert changes["ip"] == {"actions": ["create"], "before": None, "after_unknown": True,  # no "after", as Terraform
                             "before_sensitive": False, "after_sensitive": False}
    values = render_json(plan(outputs=outputs))["planned_values"]["outputs"]
    assert values["ip"] == {"sensitive": False} and values["name"] == {"sensitive": False, "type": "string",
                                                                       "value": "b"}
    assert changes["name"]["actions"] == ["update"] and changes["same"]["actions"] == ["no-op"]
    assert changes["secret"]["after"] == "(sensitive value)"


def test_a_saved_plan_keeps_outputs_drift_and_configuration() -> None:
    configuration: dict[str, object] = {"provider_config": {}, "root_module": {"resources": []}}
    made = plan(outputs=(OutputChange("ip", None, UNKNOWN),), drift=(CHANGED,), configuration=configuration)
    again = plan_from_json(json.loads(json.dumps(plan_to_json(made))))
    assert again.outputs == made.outputs and again.drift == made.drift
    assert render_json(again)["configuration"] == configuration


def test_a_multi_line_string_shows_as_a_heredoc_with_its_changed_lines() -> None:
    from reconciler.plan.render_diff import Differ

    before = {"id": "1", "user_data": "#cloud-config\npackages:\n  - curl\n  - git\n"}
    after = {"id": "1", "user_data": "#cloud-config\npackages:\n  - curl\n  - jq\n"}
    lines = Differ().body(before, after, "      ")
    assert lines == ['        id        = "1"', "      ~ user_data = <<-EOT", "            #cloud-config",
                     "            packages:", "              - curl", "          -   - git", "          +   - jq",
                     "        EOT"]


def test_nixos_work_maps_to_terraform_actions_and_reasons() -> None:
    from reconciler.actions import Action
    from reconciler.plan.model import ResourceChange
    from reconciler.plan.render_json import machine_actions
    from reconciler.reasons import Reason

    def change(action: Action, reason: Reason, before: dict[str, str] | None) -> ResourceChange:
        return ResourceChange("nixos_machine.a", "nixos_machine", "a", "nixos", "machine", action, reason,
                              before=before, after={"toplevel": UNKNOWN})

    recorded = {"toplevel": "/nix/store/x-old", "host_key": "ssh-ed25519 K"}
    assert machine_actions(change(Action.INSTALL, Reason.INSTALL_NEW_HOST, None)) == (["create"], None)
    assert machine_actions(change(Action.INSTALL, Reason.INSTALL_HOST_RECREATED, recorded)) == \
        (["delete", "create"], "replace_by_triggers")
    assert machine_actions(change(Action.INSTALL, Reason.INSTALL_RESUME, {"host_key": "ssh-ed25519 K"})) == \
        (["delete", "create"], "replace_because_tainted")
    assert machine_actions(change(Action.NIXOS_UPDATE, Reason.NIXOS_CHANGED, recorded)) == (["update"], None)
    assert machine_actions(change(Action.NIXOS_UPDATE, Reason.NIXOS_DRIFT, recorded)) == (["update"], None)


def test_relevant_attributes_name_what_the_configuration_reads_of_drifted_objects() -> None:
    configuration = {"root_module": {"resources": [
        {"address": "hcloud_server.web", "expressions": {
            "ssh_keys": {"references": ["hcloud_ssh_key.admin.name", "hcloud_ssh_key.admin"]},
            "image": {"constant_value": "debian-12"},
            "labels": {"references": ['hcloud_server.db["x.y"].labels', 'hcloud_server.db["x.y"]', "hcloud_server.db"]},
        }}]}}
    drifted = (Drift("hcloud_ssh_key.admin", "changed", "", "hcloud_ssh_key", {"name": "a"}, {"name": "b"}),
               Drift('hcloud_server.db["x.y"]', "deleted", "", "hcloud_server", {"id": "1"}))
    found = render_json(plan(drift=drifted, configuration=configuration))["relevant_attributes"]
    assert found == [{"resource": 'hcloud_server.db["x.y"]', "attribute": ["labels"]},
                     {"resource": "hcloud_ssh_key.admin", "attribute": ["name"]}]
    assert render_json(plan(configuration=configuration))["relevant_attributes"] == []


def test_a_refresh_only_plan_has_the_refreshed_state_as_prior_state() -> None:
    refreshed = {"version": 1, "serial": 3, "lineage": "lineage", "outputs": {},
                 "resources": {"hcloud_server.web": {"type": "hcloud_server", "id": "1",
                                                     "attributes": {"id": "1", "labels": {"a": "2"}}}}}
    doc = render_json(plan(drift=(CHANGED,), refresh_only=True, refreshed_state=refreshed))
    [resource] = doc["prior_state"]["values"]["root_module"]["resources"]
    assert resource["address"] == "hcloud_server.web" and resource["values"]["labels"] == {"a": "2"}
    assert doc["resource_changes"] == [] and doc["applyable"] is True
