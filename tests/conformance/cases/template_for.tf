output "result" {
  value = "%{ for x in ["a", "b"] }[${x}]%{ endfor }"
}
