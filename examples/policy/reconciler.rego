# An example policy gate over `reconciler plan --json` (Terraform's plan representation), for
# `opa eval --fail-defined --data examples/policy/ --input plan.json 'data.reconciler.deny[x]'`.
# It reads only Terraform's keys, so the same rules work on a Terraform plan.
package reconciler

import rego.v1

# Never destroy a server labelled env=production from a pull request.
deny contains msg if {
	some rc in input.resource_changes
	"delete" in rc.change.actions
	rc.change.before.labels.env == "production"
	msg := sprintf("%s: would destroy a production server", [rc.address])
}

# At most 4 GPU instances in the planned fleet.
deny contains msg if {
	gpus := [r |
		some r in input.planned_values.root_module.resources
		r.type == "google_compute_instance"
		count(object.get(r.values, "guest_accelerator", [])) > 0
	]
	count(gpus) > 4
	msg := sprintf("%d GPU instances planned; the budget allows 4", [count(gpus)])
}

# NixOS installs and updates are resource changes of nixos_machine: count them like any other change.
nixos_changes := count([rc |
	some rc in input.resource_changes
	rc.type == "nixos_machine"
	not rc.change.actions == ["no-op"]
])
