locals {
  users = ["ops", "dev"]
}
output "result" {
  value = <<-EOT
    #cloud-config
    users:
    %{ for u in local.users ~}
      - name: ${u}
        shell: /bin/bash
    %{ endfor ~}
    packages:
      - git
  EOT
}
