"""The Terraform JSON loader: block structure from blockspec, templates, references, lazy lines, and the
same trees as the HCL loader for equivalent input."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from reconciler.config import syntax as s
from reconciler.config.hcl_loader import load_hcl_text, parse_expression, parse_quoted_template
from reconciler.config.json_loader import load_json_file, load_json_text, reference, template
from reconciler.config.template_text import hcl_quoted
from reconciler.errors import ConfigError, SourcePos
from tests.config.helpers import POS, blocks_by_address, shape

FLEET_HCL = r'''
terraform {
  backend "local" {
    path = "reconciler.state.json"
  }
}

variable "nodes" {
  type    = map(object({ type = string, location = optional(string, "fsn1") }))
  default = { m1 = { type = "cx22" } }
  validation {
    condition     = length(var.nodes) > 0
    error_message = "At least one node."
  }
}

variable "count_n" {
  type    = number
  default = 2
}

provider "hcloud" {
  token = var.token
}

locals {
  labels = { fleet = "demo", "owner" = "ops" }
  names  = [for k, v in var.nodes : upper(k) if v.type != ""]
}

resource "hcloud_server" "node" {
  for_each    = var.nodes
  name        = each.key
  server_type = each.value.type
  image       = "ubuntu-24.04"
  location    = "${each.value.location}"
  labels      = merge(local.labels, { role = "node-${each.key}" })
  user_data   = "#cloud-config\nhostname: ${each.key}\n"
  public_net {
    ipv4_enabled = true
    ipv6_enabled = false
  }
  lifecycle {
    ignore_changes = ["user_data"]
  }
}

resource "google_compute_instance" "gpu" {
  count        = var.count_n
  name         = "gpu-${count.index}"
  machine_type = "g2-standard-8"
  zone         = "europe-west4-a"
  boot_disk {
    initialize_params {
      image = "debian-12"
      size  = 200
    }
  }
  network_interface {
    network = "default"
    access_config {}
  }
  network_interface {
    network = "other"
  }
  depends_on = [hcloud_server.node]
}

resource "nixos_machine" "node" {
  for_each    = hcloud_server.node
  target_host = each.value.ipv4_address
  flake       = ".#${each.key}"
  tags        = ["all", "node"]
  enabled     = var.count_n > 1 ? true : false
  health_check {
    command = "systemctl is-system-running"
    timeout = 60
  }
}

output "ips" {
  value = { for k, s in hcloud_server.node : k => s.ipv4_address }
}

inventory {
  service "zerotier" {
    role "controller" {
      machines = ["m1"]
    }
    settings = { network = "fleet" }
  }
}
'''

FLEET_JSON = {
    "//": "written by terranix",
    "terraform": {"backend": {"local": {"path": "reconciler.state.json"}}},
    "variable": {
        "nodes": {
            "type": 'map(object({ type = string, location = optional(string, "fsn1") }))',
            "default": {"m1": {"type": "cx22"}},
            "validation": [{"condition": "${length(var.nodes) > 0}", "error_message": "At least one node."}],
        },
        "count_n": {"type": "number", "default": 2},
    },
    "provider": {"hcloud": [{"token": "${var.token}"}]},
    "locals": {
        "labels": {"fleet": "demo", "owner": "ops"},
        "names": '${[for k, v in var.nodes : upper(k) if v.type != ""]}',
    },
    "resource": {
        "hcloud_server": {
            "node": {
                "//": "one server per node",
                "for_each": "${var.nodes}",
                "name": "${each.key}",
                "server_type": "${each.value.type}",
                "image": "ubuntu-24.04",
                "location": "${each.value.location}",
                "labels": '${merge(local.labels, { role = "node-${each.key}" })}',
                "user_data": "#cloud-config\nhostname: ${each.key}\n",
                "public_net": {"ipv4_enabled": True, "ipv6_enabled": False},
                "lifecycle": {"ignore_changes": ["user_data"]},
            },
        },
        "google_compute_instance": {
            "gpu": {
                "count": "${var.count_n}",
                "name": "gpu-${count.index}",
                "machine_type": "g2-standard-8",
                "zone": "europe-west4-a",
                "boot_disk": [{"initialize_params": {"image": "debian-12", "size": 200.0}}],
                "network_interface": [{"network": "default", "access_config": {}}, {"network": "other"}],
                "depends_on": ["hcloud_server.node"],
            },
        },
        "nixos_machine": {
            "node": {
                "for_each": "${hcloud_server.node}",
                "target_host": "${each.value.ipv4_address}",
                "flake": ".#${each.key}",
                "tags": ["all", "node"],
                "enabled": "${var.count_n > 1 ? true : false}",
                "health_check": {"command": "systemctl is-system-running", "timeout": 60},
            },
        },
    },
    "output": {"ips": {"value": "${{ for k, s in hcloud_server.node : k => s.ipv4_address }}"}},
    "inventory": {"service": {"zerotier": {"role": {"controller": {"machines": ["m1"]}},
                                            "settings": {"network": "fleet"}}}},
}


def test_fleet_snippet_gives_identical_trees_in_hcl_and_json() -> None:
    from_hcl = blocks_by_address([load_hcl_text(FLEET_HCL, "main.tf")])
    from_json = blocks_by_address([load_json_text(json.dumps(FLEET_JSON, indent=2), "main.tf.json")])
    assert sorted(from_hcl) == sorted(from_json)
    for address, tree in from_hcl.items():
        assert from_json[address] == tree, address


def test_example_fleets_give_identical_trees() -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    hcl = [load_hcl_text(p.read_text(), p.name) for p in sorted((root / "fleet").glob("*.tf"))]
    js = [load_json_text(p.read_text(), p.name) for p in sorted((root / "fleet-json").glob("*.tf.json"))]
    assert blocks_by_address(hcl) == blocks_by_address(js)


def test_label_levels_may_be_arrays_and_comments_are_skipped() -> None:
    text = json.dumps({"resource": [{"hcloud_ssh_key": {"a": {"name": "a"}}},
                                    {"hcloud_ssh_key": [{"b": {"name": "b", "//": "note"}}]}],
                       "output": {"//": "c", "o": {"value": 1}}})
    blocks = load_json_text(text, "x.tf.json").body.blocks
    assert [(b.type, b.labels) for b in blocks] == [
        ("resource", ("hcloud_ssh_key", "a")), ("resource", ("hcloud_ssh_key", "b")), ("output", ("o",))]
    assert [a.name for a in blocks[1].body.attributes] == ["name"]


def test_nested_blocks_object_array_and_empty() -> None:
    body = {"name": "x", "machine_type": "m", "zone": "z",
            "network_interface": [], "boot_disk": {"initialize_params": [{"image": "a"}, {"image": "b"}]}}
    text = json.dumps({"resource": {"google_compute_instance": {"i": body}}})
    block = load_json_text(text, "x.tf.json").body.blocks[0]
    assert [b.type for b in block.body.blocks] == ["boot_disk"]
    assert [b.body.attributes[0].expr for b in block.body.blocks[0].body.blocks] == [
        s.Literal(block.body.blocks[0].body.blocks[0].body.attributes[0].pos, "a"),
        s.Literal(block.body.blocks[0].body.blocks[1].body.attributes[0].pos, "b")]
    # an object-valued argument that is not a nested block stays an attribute
    assert shape(block.body.attribute("name")) == ("Attribute", "name", ("Literal", "x"))


def test_unknown_top_level_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_json_text('{\n  "variable": {},\n  "resources": {}\n}\n', "config.tf.json")
    assert err.value.lines() == ['config.tf.json:3: unknown block type "resources" (did you mean "resource"?)']


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ('{\n  "resource": {\n    "hcloud_server": {,}\n  }\n}\n', 3, "invalid JSON: Expecting property name"),
    ("[1, 2]\n", 1, "must hold one JSON object"),
    ('{\n  "locals": 5\n}', 2, '"locals" must be a JSON object'),
    ('{"resource": {"nixos_machine": {"m": {"depends_on": "x"}}}}', 1, "depends_on must be a list"),
    ('{"variable": {"v": {\n"type": 3}}}', 2, '"type" must be a string'),
    ('{"locals": {\n"a": "${foo(}"}}', 2, "syntax error"),
    ('{"locals": {\n\n"a": "${x"}}', 3, "syntax error"),
])
def test_json_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_json_text(text, "config.tf.json")
    assert err.value.pos is not None
    assert (err.value.pos.file, err.value.pos.line) == ("config.tf.json", line)
    assert fragment in err.value.message


def test_strings_without_templates_are_literals() -> None:
    for raw in ["plain", "100%", "$5", "a{b}", "", "multi\nline \"quoted\" \\ back"]:
        assert template(raw, POS) == s.Literal(POS, raw)


@pytest.mark.parametrize("raw", [
    "${var.x}", "${hcloud_server.m0001.ipv4_address}", "${a.b[0].c}", '${a.b["k"].c}', "${a.0}",
    "${a-b.c}", '${a["with space"]}', "${a.true}",
])
def test_reference_fast_path_matches_the_parser(raw: str) -> None:
    fast = template(raw, POS)
    parsed = parse_expression(raw[2:-1], POS)
    assert fast == parsed


@pytest.mark.parametrize("raw", [
    "host-${var.x}:22", ".#${each.key}", "${a.b}${c[0]}", '${a["k"]} and ${b.0}', "pre ${x} post",
    "${true}-${x}", "100% ${x}", "$ ${x}", "$${x}-${y}", "${x}-%{ if c }y%{ endif }",
])
def test_text_with_references_fast_path_matches_the_parser(raw: str) -> None:
    assert template(raw, POS) == parse_quoted_template(hcl_quoted(raw), POS)


@pytest.mark.parametrize(("raw", "expected"), [
    ("${true}", ("Literal", True)),
    ("${null}", ("Literal", None)),
    ("${ var.x }", ("GetAttr", ("ScopeRef", "var"), "x")),
    ("${var.x}-suffix", ("Template", (("GetAttr", ("ScopeRef", "var"), "x"), ("Literal", "-suffix")))),
    ('${format("%s\\n", "a")}', ("Call", "format", (("Literal", "%s\n"), ("Literal", "a")), False)),
    ('say "${x}"\n', ("Template", (("Literal", 'say "'), ("ScopeRef", "x"), ("Literal", '"\n')))),
    ('back\\slash ${x}', ("Template", (("Literal", "back\\slash "), ("ScopeRef", "x")))),
    ("$${not} ${x}", ("Template", (("Literal", "${not} "), ("ScopeRef", "x")))),
    ('${lookup(m, "}")}', ("Call", "lookup", (("ScopeRef", "m"), ("Literal", "}")), False)),
    ('%{ if c }yes%{ endif }', ("Template", (("TemplateIf", ("ScopeRef", "c"), (("Literal", "yes"),), ()),))),
])
def test_templates(raw: str, expected: object) -> None:
    assert shape(template(raw, POS)) == expected


def test_template_positions_are_the_strings_position() -> None:
    e = template('a-${merge(x, {b = "c"})}', POS)
    assert isinstance(e, s.Template)
    assert e.pos == POS and e.parts[1].pos == POS


def test_references_from_depends_on_strings() -> None:
    assert shape(reference("hcloud_server.web", POS)) == ("GetAttr", ("ScopeRef", "hcloud_server"), "web")
    assert shape(reference('hcloud_server.web["a"]', POS)) == (
        "Index", ("GetAttr", ("ScopeRef", "hcloud_server"), "web"), ("Literal", "a"))
    assert shape(reference("${hcloud_server.web}", POS)) == ("GetAttr", ("ScopeRef", "hcloud_server"), "web")
    assert shape(reference("list(string)", POS)) == ("Call", "list", (("ScopeRef", "string"),), False)


def test_variable_default_is_taken_literally() -> None:
    text = json.dumps({"variable": {"v": {"default": {"a": "${not.a.template}", "n": [1.0, 2.5]},
                                          "description": "${x}"}}})
    body = load_json_text(text, "x.tf.json").body.blocks[0].body
    assert shape(body.attribute("default").expr) == (  # type: ignore[union-attr]
        "ObjectExpr", ((("Literal", "a"), ("Literal", "${not.a.template}")),
                       (("Literal", "n"), ("TupleExpr", (("Literal", 1), ("Literal", 2.5))))))
    assert shape(body.attribute("description").expr) == ("Literal", "${x}")  # type: ignore[union-attr]


def test_object_keys_may_be_templates() -> None:
    text = json.dumps({"locals": {"m": {"${var.k}": 1, "plain": 2}}})
    e = load_json_text(text, "x.tf.json").body.blocks[0].body.attributes[0].expr
    assert shape(e) == ("ObjectExpr", ((("GetAttr", ("ScopeRef", "var"), "k"), ("Literal", 1)),
                                       (("Literal", "plain"), ("Literal", 2))))


def _deep_file(n: int) -> str:
    resources = {f"m{i:04d}": {"target_host": f"${{hcloud_server.m{i:04d}.ipv4_address}}", "flake": f".#m{i:04d}",
                               "tags": ["all", "web"], "health_check": {"command": "true", "timeout": 5}}
                 for i in range(n)}
    return json.dumps({"locals": {"a": 1}, "resource": {"nixos_machine": resources}}, indent=2)


def test_lazy_lines_point_at_the_right_key_deep_in_the_file() -> None:
    text = _deep_file(300)
    lines = text.splitlines()
    f = load_json_text(text, "config.tf.json")
    block = f.body.blocks[-1]
    assert block.labels == ("nixos_machine", "m0299")
    assert lines[block.pos.line - 1].strip() == '"m0299": {'
    tags = block.body.attribute("tags")
    assert tags is not None and isinstance(tags.expr, s.TupleExpr)
    assert lines[tags.pos.line - 1].strip() == '"tags": ['
    assert lines[tags.expr.items[1].pos.line - 1].strip() == '"web"'
    nested = block.body.blocks[0].body.attribute("timeout")
    assert nested is not None and lines[nested.pos.line - 1].strip() == '"timeout": 5'
    assert str(nested.pos) == f"config.tf.json:{nested.pos.line}"
    assert lines[f.body.blocks[0].pos.line - 1].strip() == '"locals": {'


def test_lazy_positions_compare_hash_and_pickle_like_plain_positions() -> None:
    f = load_json_text('{\n  "locals": {\n    "a": 1\n  }\n}\n', "c.tf.json")
    pos = f.body.blocks[0].body.attributes[0].pos
    assert (pos.file, pos.line, str(pos)) == ("c.tf.json", 3, "c.tf.json:3")
    assert hash(pos) == hash(SourcePos("c.tf.json", 3))
    restored = pickle.loads(pickle.dumps(pos))
    assert type(restored) is SourcePos and restored == SourcePos("c.tf.json", 3)


def test_duplicate_keys_resolve_to_the_last_one() -> None:
    f = load_json_text('{"locals": {\n"a": 1,\n"a": 2}}', "c.tf.json")
    attr = f.body.blocks[0].body.attributes[0]
    assert attr.expr == s.Literal(attr.pos, 2) and attr.pos.line == 3


def test_numbers_and_bools() -> None:
    f = load_json_text('{"locals": {"i": 3, "f": 2.5, "g": 4.0, "t": true, "n": null, "neg": -1}}', "c.tf.json")
    values = {a.name: a.expr for a in f.body.blocks[0].body.attributes}
    got = {k: (v.value, type(v.value)) for k, v in values.items() if isinstance(v, s.Literal)}
    assert got == {"i": (3, int), "f": (2.5, float), "g": (4, int), "t": (True, bool), "n": (None, type(None)),
                   "neg": (-1, int)}


def test_load_json_file(tmp_path: Path) -> None:
    p = tmp_path / "config.tf.json"
    p.write_text('{"locals": {"a": "${var.x}"}}')
    f = load_json_file(p, "config.tf.json")
    assert shape(f.body.blocks[0].body.attributes[0].expr) == ("GetAttr", ("ScopeRef", "var"), "x")
    with pytest.raises(ConfigError, match="cannot read"):
        load_json_file(tmp_path / "nope.tf.json", "nope.tf.json")


def test_empty_object_and_byte_order_mark() -> None:
    assert load_json_text("{}", "c.tf.json").body.blocks == ()
    f = load_json_text('\ufeff{"locals": {"a": 1}}', "c.tf.json")
    assert shape(f.body.blocks[0].body.attributes[0].expr) == ("Literal", 1)
