output "result" {
  value = templatefile("${path.module}/files/cloud-init.yaml.tftpl", {count = 2, users = [{name = "ops", groups = ["wheel", "docker"]}, {name = "dev", groups = ["users"]}]})
}
