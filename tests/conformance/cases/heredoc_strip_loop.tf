locals {
  xs = ["a", "b"]
}
output "result" {
  value = <<-EOT
  list:
    %{ for x in local.xs ~}
    - ${x}
    %{ endfor ~}
  end
  EOT
}
