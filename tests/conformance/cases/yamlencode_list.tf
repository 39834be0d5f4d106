output "result" {
  value = yamlencode([1, 1.5, "s", [], {}])
}
