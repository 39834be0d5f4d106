locals {
  base    = "fleet"
  names   = [for i in range(3) : "${local.base}-${i}"]
  by_name = { for n in local.names : n => upper(n) }
}
output "result" { value = local.by_name }
