output "result" {
  value = flatten([for k in ["a", "b"] : [for i in [1, 2] : { key = k, n = i }]])
}
