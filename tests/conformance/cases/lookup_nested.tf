output "result" {
  value = lookup({a = {b = "c"}}, "a").b
}
