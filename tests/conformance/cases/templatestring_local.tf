locals {
  tmpl = "%%{ for i in items }$${name}$${i} %%{ endfor }"
}
output "result" {
  value = templatestring(local.tmpl, { name = "x", items = [1, 2] })
}
