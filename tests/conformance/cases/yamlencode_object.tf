output "result" {
  value = yamlencode({a = 1, b = ["x", "y"], c = {d = true, e = null}})
}
