locals {
  xs = ["a", "b"]
}
output "result" {
  value = "%{ for x in local.xs ~}\n  - ${x}%{ endfor ~}\n  end"
}
