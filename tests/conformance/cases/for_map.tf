output "result" {
  value = {for k, v in {a = 1, b = 2} : upper(k) => v + 1}
}
