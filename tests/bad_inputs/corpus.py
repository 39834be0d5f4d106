# ruff: noqa: E501
"""Bad inputs: each gives one short error naming the file and line, exit 1, no traceback, no state.

A case is (name, files, command args, expected "file:line" prefix, expected message fragment).
"""

from __future__ import annotations

SERVER = """
resource "hcloud_server" "a" {
  name        = "a"
  server_type = "cx22"
  image       = "ubuntu-24.04"
}
"""

MACHINE = """
resource "nixos_machine" "m" {
  target_host = "10.0.0.1"
  flake       = ".#m"
}
"""

GPU_OK = """
resource "google_compute_instance" "gpu" {
  name         = "gpu"
  machine_type = "g2-standard-8"
  zone         = "europe-west4-a"
  boot_disk {
    initialize_params {
      image = "debian-12"
    }
  }
  network_interface {
    network = "default"
  }
  guest_accelerator {
    type  = "nvidia-l4"
    count = 1
  }
}
"""

P = ["plan", "--no-refresh"]
V = ["validate"]

CASES: list[tuple[str, dict[str, str], list[str], str, str]] = [
    # --- syntax
    ("unclosed_block", {"main.tf": 'resource "hcloud_server" "a" {\n  name = "a"\n'}, V, "main.tf:", "syntax error"),
    ("stray_brace", {"main.tf": SERVER + "}\n"}, V, "main.tf:7", "syntax error"),
    ("missing_equals", {"main.tf": 'resource "hcloud_server" "a" {\n  name "a"\n}\n'}, V, "main.tf:2", "syntax error"),
    ("unterminated_string", {"main.tf": 'variable "x" {\n  default = "abc\n}\n'}, V, "main.tf:2", "syntax error"),
    ("invalid_json", {"config.tf.json": '{\n  "resource": {\n    "hcloud_server": {,}\n  }\n}\n'}, V,
     "config.tf.json:3", "invalid JSON"),
    ("json_not_object", {"config.tf.json": "[1, 2]\n"}, V, "config.tf.json:1", ""),
    ("json_unknown_top_level", {"config.tf.json": '{\n  "resources": {}\n}\n'}, V, "config.tf.json:", "resources"),
    ("duplicate_attribute", {"main.tf": 'resource "hcloud_server" "a" {\n  name = "a"\n  name = "b"\n'
                                        '  server_type = "cx22"\n  image = "x"\n}\n'}, V, "main.tf:3", "twice"),
    # --- structure
    ("unknown_block_type", {"main.tf": 'resorce "hcloud_server" "a" {\n}\n'}, V, "main.tf:1", 'did you mean "resource"'),
    ("unknown_resource_type", {"main.tf": 'resource "hcloud_servr" "a" {\n  name = "a"\n}\n'}, V, "main.tf:1",
     'unknown resource type "hcloud_servr"'),
    ("aws_resource_type", {"main.tf": 'resource "aws_instance" "a" {\n}\n'}, V, "main.tf:1", "unknown resource type"),
    ("resource_one_label", {"main.tf": 'resource "hcloud_server" {\n}\n'}, V, "main.tf:1", "two labels"),
    ("duplicate_resource", {"main.tf": SERVER, "more.tf": SERVER}, V, "more.tf:2", "declared twice"),
    ("duplicate_variable", {"main.tf": 'variable "x" {}\nvariable "x" {}\n'}, V, "main.tf:2", "declared twice"),
    ("duplicate_output", {"main.tf": 'output "o" {\n  value = 1\n}\noutput "o" {\n  value = 2\n}\n'}, V,
     "main.tf:4", "declared twice"),
    ("count_and_for_each", {"main.tf": SERVER.replace('name        = "a"', 'count = 1\n  for_each = {}\n  name = "a"')},
     V, "main.tf:4", "count and for_each"),
    ("unknown_nested_block", {"main.tf": SERVER.replace('image       = "ubuntu-24.04"',
                                                        'image = "x"\n  public_network {\n  }')}, V, "main.tf:6",
     'unknown block "public_network"'),
    ("unknown_lifecycle_arg", {"main.tf": SERVER.replace('image       = "ubuntu-24.04"',
                                                         'image = "x"\n  lifecycle {\n    prevent_destroi = true\n  }')},
     V, "main.tf:7", "prevent_destroy"),
    ("output_without_value", {"main.tf": 'output "o" {\n  description = "x"\n}\n'}, V, "main.tf:1", "needs a value"),
    ("unknown_provider", {"main.tf": 'provider "aws" {\n  region = "x"\n}\n'}, V, "main.tf:1", 'unknown provider "aws"'),
    ("provider_bad_argument", {"main.tf": 'provider "hcloud" {\n  tokn = "x"\n}\n'}, V, "main.tf:1", '"tokn"'),
    ("unknown_backend", {"main.tf": 'terraform {\n  backend "s3" {\n  }\n}\n'}, V, "main.tf:2", 'unknown backend "s3"'),
    ("inventory_unknown_machine", {"main.tf": MACHINE + 'inventory {\n  service "z" {\n    role "r" {\n'
                                   '      machines = ["ghost"]\n    }\n  }\n}\n'}, P, "main.tf:", 'unknown machine "ghost"'),
    ("inventory_unknown_machine_validate", {"main.tf": MACHINE + 'inventory {\n  service "z" {\n    role "r" {\n'
                                            '      machines = ["ghost"]\n    }\n  }\n}\n'}, V, "main.tf:9", 'unknown machine "ghost"'),
    ("inventory_after_unknown_role", {"main.tf": MACHINE + 'inventory {\n  service "z" {\n    role "r" {\n'
                                      '      machines = ["m"]\n      after    = ["nope"]\n    }\n  }\n}\n'}, V, "main.tf:10",
     'unknown role "nope"'),
    # --- attributes and types
    ("unknown_attribute", {"main.tf": SERVER.replace('name        = "a"', 'name = "a"\n  server_typo = "x"')}, V,
     "main.tf:4", 'did you mean "server_type"'),
    ("missing_required", {"main.tf": 'resource "hcloud_server" "a" {\n  name = "a"\n  image = "x"\n}\n'}, V,
     "main.tf:1", 'missing required argument "server_type"'),
    ("wrong_type_bool", {"main.tf": SERVER.replace('image       = "ubuntu-24.04"', 'image = "x"\n  backups = "yes"')},
     V, "main.tf:6", '"backups" must be a bool'),
    ("wrong_type_list", {"main.tf": SERVER.replace('image       = "ubuntu-24.04"', 'image = "x"\n  ssh_keys = "k"')},
     V, "main.tf:6", '"ssh_keys" must be a list'),
    ("wrong_type_port", {"main.tf": MACHINE.replace('flake       = ".#m"', 'flake = ".#m"\n  target_port = "ssh"')},
     V, "main.tf:5", "target_port"),
    ("invalid_host_name", {"main.tf": MACHINE.replace('"10.0.0.1"', '"bad host!"')}, V, "main.tf:3",
     "must be a host name or an IP address"),
    ("host_with_user", {"main.tf": MACHINE.replace('"10.0.0.1"', '"root@10.0.0.1"')}, V, "main.tf:3", "target_user"),
    ("invalid_server_name", {"main.tf": SERVER.replace('name        = "a"', 'name = "web_01!"')}, V, "main.tf:3",
     "valid host name"),
    ("bad_flake_ref", {"main.tf": MACHINE.replace('".#m"', '"github:foo/bar"')}, V, "main.tf:4", "FLAKE#NAME"),
    ("gpu_without_terminate", {"main.tf": GPU_OK}, V, "main.tf:", 'on_host_maintenance = "TERMINATE"'),
    ("enabled_not_bool", {"main.tf": SERVER.replace('name        = "a"', 'enabled = "maybe"\n  name = "a"')}, P,
     "main.tf:3", "enabled must be true or false"),
    ("count_negative", {"main.tf": SERVER.replace('name        = "a"', 'count = -1\n  name = "a"')}, P, "main.tf:3",
     "count must be a whole number"),
    ("for_each_list_of_numbers", {"main.tf": SERVER.replace('name        = "a"', 'for_each = [1, 2]\n  name = "a"')},
     P, "main.tf:3", "for_each needs a map or a set of strings"),
    # --- references and cycles
    ("undeclared_variable", {"main.tf": SERVER.replace('"cx22"', "var.type")}, V, "main.tf:4",
     'undeclared variable "var.type"'),
    ("undeclared_local", {"main.tf": SERVER.replace('"cx22"', "local.type")}, V, "main.tf:4",
     'undeclared local value "local.type"'),
    ("undeclared_resource", {"main.tf": MACHINE.replace('"10.0.0.1"', "hcloud_server.missing.ipv4_address")}, V,
     "main.tf:3", 'undeclared resource "hcloud_server.missing"'),
    ("unknown_root_name", {"main.tf": SERVER.replace('"cx22"', "foo.bar")}, V, "main.tf:4", 'unknown name "foo"'),
    ("count_index_without_count", {"main.tf": SERVER.replace('"a"\n', '"a-${count.index}"\n', 1)}, V, "main.tf:3",
     "count.index"),
    ("each_without_for_each", {"main.tf": SERVER.replace('"a"\n', "each.key\n", 1)}, V, "main.tf:3", '"each"'),
    ("cycle_between_locals", {"main.tf": 'locals {\n  a = local.b\n  b = local.a\n}\n'}, V, "main.tf:2",
     "dependency cycle: local.a -> local.b -> local.a"),
    ("cycle_between_resources", {"main.tf": 'resource "nixos_machine" "a" {\n  target_host = nixos_machine.b.target_host\n'
                                            '}\nresource "nixos_machine" "b" {\n  target_host = nixos_machine.a.target_host\n}\n'},
     V, "main.tf:1", "dependency cycle"),
    ("self_reference", {"main.tf": SERVER.replace('"cx22"', "hcloud_server.a.name")}, V, "main.tf:4", "refers to itself"),
    # --- functions and expressions
    ("unknown_function", {"main.tf": SERVER.replace('"cx22"', 'lenght("x")')}, V, "main.tf:4", 'unknown function "lenght"'),
    ("function_wrong_args", {"main.tf": SERVER.replace('"cx22"', 'upper(1, 2)')}, V, "main.tf:4", "upper"),
    ("bad_index", {"main.tf": 'locals {\n  l = ["a"]\n}\n' + SERVER.replace('"cx22"', "local.l[3]")}, V, "main.tf:7",
     "index"),
    ("file_missing", {"main.tf": 'locals {\n  k = file("nope.pub")\n}\n'}, V, "main.tf:2", "nope.pub"),
    ("jsondecode_bad", {"main.tf": 'locals {\n  j = jsondecode("{x")\n}\n'}, V, "main.tf:2", "jsondecode"),
    # --- variables
    ("var_wrong_type", {"main.tf": 'variable "n" {\n  type = number\n}\n'}, [*P, "--var", "n=abc"], "", 'variable "n"'),
    ("var_undeclared", {"main.tf": 'variable "n" {\n  default = 1\n}\n'}, [*P, "--var", "m=1"], "",
     'undeclared variable "m"'),
    ("var_missing_value", {"main.tf": 'variable "n" {\n  type = number\n}\n'}, P, "main.tf:1", 'variable "n" has no value'),
    ("var_validation_fails", {"main.tf": 'variable "n" {\n  type = number\n  default = 0\n  validation {\n'
                                         '    condition = var.n > 0\n    error_message = "n must be positive."\n  }\n}\n'},
     P, "main.tf:4", "n must be positive."),
    ("var_file_syntax", {"main.tf": 'variable "n" {\n  default = 1\n}\n', "bad.tfvars": "n = = 2\n"},
     [*P, "--var-file", "{dir}/bad.tfvars"], "bad.tfvars:1", "syntax error"),
    ("var_file_json", {"main.tf": 'variable "n" {\n  default = 1\n}\n', "bad.tfvars.json": '{"n": }\n'},
     [*P, "--var-file", "{dir}/bad.tfvars.json"], "bad.tfvars.json:1", "invalid JSON"),
    ("var_file_undeclared", {"main.tf": 'variable "n" {\n  default = 1\n}\n', "x.tfvars": "n = 2\nzz = 3\n"},
     [*P, "--var-file", "{dir}/x.tfvars"], "x.tfvars:2", 'undeclared variable "zz"'),
    ("bad_type_constraint", {"main.tf": 'variable "n" {\n  type = lst(string)\n}\n'}, V, "main.tf:2", ""),
    ("prevent_destroy_blocks_plan", {"main.tf": SERVER.replace('image       = "ubuntu-24.04"',
                                                               'image = "x"\n  lifecycle {\n    prevent_destroy = true\n  }')
                                     .replace('"cx22"', '"cx22"\n  enabled = false'),
                                     "reconciler.state.json": '{"version": 1, "serial": 1, "lineage": "l", "resources": '
                                     '{"hcloud_server.a": {"type": "hcloud_server", "id": "1", "attributes": '
                                     '{"name": "a", "server_type": "cx22", "image": "x"}}}, "outputs": {}}'},
     P, "main.tf:2", "prevent_destroy"),
]
