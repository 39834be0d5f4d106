"""What each golden case must show, stated apart from its snapshot: a regenerated expected file that
loses one of these is wrong, however well it matches the code that wrote it. Each statement is
(file, text that must be in it) or (file, a predicate over the parsed plan JSON, what it says)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]
Check = tuple[str, str] | tuple[str, Callable[[Doc], bool], str]


def actions(doc: Doc, address: str) -> list[str]:
    return next(c["change"]["actions"] for c in doc["resource_changes"] if c["address"] == address)


def reason(doc: Doc, address: str) -> str | None:
    return next(c.get("action_reason") for c in doc["resource_changes"] if c["address"] == address)


def planned(doc: Doc) -> set[str]:
    return {r["address"] for r in doc["planned_values"]["root_module"]["resources"]}


M0, M1 = "nixos_machine.node[0]", "nixos_machine.node[1]"
S0, S1 = "hcloud_server.node[0]", "hcloud_server.node[1]"
SUMMARY_RE = "\nPlan: {} to add, {} to change, {} to destroy.\nNixOS: {} to install, {} to update.\n"

STATEMENTS: dict[str, list[Check]] = {
    "count_grow": [
        ("plan.txt", SUMMARY_RE.format(1, 0, 0, 1, 0)),
        ("plan.json", lambda d: actions(d, "nixos_machine.node[2]") == ["create"], "a new machine: create"),
    ],
    "count_shrink": [
        ("plan.txt", "# (because index [1] is out of range for count)"),
        ("plan.json", lambda d: reason(d, S1) == "delete_because_count_index", "Terraform's reason"),
    ],
    "count_zero": [
        ("plan.json", lambda d: reason(d, S0) == "delete_because_count_index", "count = 0 removes"),
        ("plan.txt", SUMMARY_RE.format(0, 0, 4, 0, 0)),
    ],
    "create_all": [
        ("plan.txt", '  + resource "hcloud_ssh_key" "admin" {'),
        ("plan.txt", "      + fingerprint = (known after apply)"),
        ("plan.txt", "  z dormant: enabled = false"),
        ("plan.json", lambda d: "prior_state" not in d and d["format_version"] == "1.2", "no state yet"),
        (
            "plan.json",
            lambda d: (
                d["configuration"]["provider_config"]["hcloud"]["full_name"]
                == "registry.terraform.io/hetznercloud/hcloud"
            ),
            "provider full name",
        ),
    ],
    "create_all_json": [
        ("plan.json", lambda d: actions(d, "nixos_machine.cinnabar") == ["create"], "install = create")
    ],
    "create_before_destroy": [
        ("plan.txt", '# (create before destroy)\n+/- resource "hcloud_server" "node" {'),
        ("plan.txt", "+/- create replacement and then destroy"),
        ("plan.json", lambda d: reason(d, S0) == "replace_because_cannot_update", "replace"),
        ("plan.json", lambda d: actions(d, S0) == ["create", "delete"], "Terraform's create-then-delete replace"),
    ],
    "create_with_gpu": [
        ("plan.txt", "      + guest_accelerator {"),
        ("plan.json", lambda d: "google_compute_instance.gpu" in planned(d), "the GPU node is planned"),
    ],
    "destroy_mode": [
        ("plan.txt", "Destroy plan: every resource in state will be destroyed."),
        ("plan.json", lambda d: reason(d, "hcloud_ssh_key.admin") is None, "no reason in a destroy plan"),
        ("plan.json", lambda d: planned(d) == set(), "nothing is left"),
    ],
    "destroy_ordering_removed_config": [
        ("plan.txt", "# (because hcloud_server.node is not in configuration)"),
        ("plan.json", lambda d: reason(d, S0) == "delete_because_no_resource_config", "Terraform's reason"),
    ],
    "disable_count_resource": [
        ("plan.txt", "# (because enabled = false: toggled off"),
        ("plan.json", lambda d: reason(d, S0) is None, "a toggle-off has no Terraform reason"),
        ("plan.json", lambda d: actions(d, M0) == ["no-op"], "the installed machine is kept"),
    ],
    "dormant_chain": [
        ("plan.txt", "# (because depends on disabled google_compute_instance.gpu)"),
        (
            "plan.json",
            lambda d: {x["address"] for x in d["dormant"]} >= {"hcloud_server.gpu_sidecar", "nixos_machine.scheelite"},
            "dormant listed under our key",
        ),
        ("plan.txt", "Changes to Outputs:\n  + web_ips = {"),
    ],
    "for_each_add_key": [
        ("plan.json", lambda d: actions(d, 'nixos_machine.web["pyrite"]') == ["create"], "install"),
        ("plan.json", lambda d: actions(d, "nixos_machine.cinnabar") == ["update"], "NixOS update"),
    ],
    "for_each_remove_key": [
        ("plan.txt", '# (because key ["pyrite"] is not in for_each map)'),
        (
            "plan.json",
            lambda d: reason(d, 'hcloud_server.web["pyrite"]') == "delete_because_each_key",
            "Terraform's reason",
        ),
    ],
    "fresh_saved_plan_is_accepted": [("plan.txt", SUMMARY_RE.format(1, 0, 0, 1, 0))],
    "machine_removed_is_forgotten": [
        ("plan.json", lambda d: actions(d, M0) == ["delete"], "the machine is forgotten"),
        ("plan.json", lambda d: actions(d, S0) == ["no-op"], "its server stays"),
    ],
    "nixos_update_after_controller": [
        ("plan.txt", "  ^ update NixOS (reconciler)"),
        ("plan.json", lambda d: actions(d, "nixos_machine.cinnabar") == ["update"], "NixOS update = update"),
        (
            "plan.json",
            lambda d: (
                d["summary"]["update"]
                == len(
                    [
                        c
                        for c in d["resource_changes"]
                        if c["type"] == "nixos_machine" and c["change"]["actions"] == ["update"]
                    ]
                )
            ),
            "every NixOS update is an update resource change",
        ),
    ],
    "noop_after_apply": [
        ("plan.json", lambda d: not d["applyable"], "nothing to apply"),
        ("plan.json", lambda d: all(c["change"]["actions"] == ["no-op"] for c in d["resource_changes"]), "no-ops only"),
    ],
    "prevent_destroy_error": [("error.txt", "has lifecycle.prevent_destroy set")],
    "references_order": [
        (
            "plan.json",
            lambda d: any(
                r["address"] == "hcloud_server.node"
                and r["expressions"]["ssh_keys"]["references"] == ["hcloud_ssh_key.admin.name", "hcloud_ssh_key.admin"]
                for r in d["configuration"]["root_module"]["resources"]
            ),
            "references with their prefixes, as Terraform lists them",
        )
    ],
    "replace_image_reinstalls": [
        ("plan.txt", '~ image        = "ubuntu-24.04" -> "debian-12"  # forces replacement'),
        (
            "plan.json",
            lambda d: actions(d, M0) == ["delete", "create"] and reason(d, M0) == "replace_by_triggers",
            "a reinstall is a replace",
        ),
        ("plan.json", lambda d: d["resource_changes"][0]["change"]["replace_paths"] == [["image"]], "replace paths"),
    ],
    "sensitive_variable_masked": [
        ("plan.txt", "+ user_data    = (sensitive value)"),
        (
            "plan.json",
            lambda d: all(
                c["change"]["after_sensitive"]["user_data"] is True
                and c["change"]["after"]["user_data"] == "(sensitive value)"
                and "s3cr3t" not in json.dumps(d)
                for c in d["resource_changes"]
                if c["type"] == "hcloud_server"
            ),
            "marked sensitive, and the secret s3cr3t nowhere in the document",
        ),
    ],
    "stale_plan_lineage_changed": [("error.txt", "saved plan is stale")],
    "stale_plan_made_from_no_state": [("error.txt", "made against no state")],
    "stale_plan_serial_moved": [("error.txt", "the state is now serial 99")],
    "target_destroy_takes_dependents": [
        ("plan.txt", SUMMARY_RE.format(0, 0, 2, 0, 0)),
        ("plan.json", lambda d: d["complete"] is False, "a targeted plan is incomplete"),
    ],
    "target_one_machine": [("plan.txt", "Note: --target limits this plan to")],
    "toggle_cpu_off_dormant_controller": [("plan.txt", "# (because depends on disabled google_compute_instance.cpu)")],
    "toggle_gpu_off": [
        ("plan.txt", "  # google_compute_instance.gpu will be destroyed"),
        ("plan.txt", "Monthly cost: 727.51 EUR -> 107.01 EUR (-620.50 EUR)"),
    ],
    "toggle_gpu_on": [
        ("plan.txt", SUMMARY_RE.format(1, 0, 0, 1, 3)),
        (
            "plan.json",
            lambda d: (
                actions(d, "nixos_machine.scheelite") == ["create"]
                and d["resource_changes"][-1]["change"]["after_unknown"].get("toplevel") is True
            ),
            "installs are creates; a new system is known after apply",
        ),
    ],
    "toggle_off_never_created": [
        (
            "plan.json",
            lambda d: "google_compute_instance.cpu" not in {c["address"] for c in d["resource_changes"]},
            "never created: in no Terraform list",
        )
    ],
    "update_and_ignore_changes": [("plan.txt", "No changes. The fleet matches the configuration.")],
    "update_labels_in_place": [
        ("plan.txt", '~ "role" = "node" -> "worker"'),
        ("plan.txt", "        # (6 unchanged attributes hidden)"),
        ("plan.json", lambda d: actions(d, S0) == ["update"], "update in place"),
    ],
}
