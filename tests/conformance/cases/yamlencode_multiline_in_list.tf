output "result" {
  value = yamlencode({ files = [{ path = "/etc/x", content = "a\n  b\n" }] })
}
