output "result" {
  value = yamlencode({ users = [{ name = "ops", groups = ["wheel"] }, { name = "dev", groups = [] }] })
}
