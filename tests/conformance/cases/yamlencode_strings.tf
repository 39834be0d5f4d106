output "result" {
  value = yamlencode({plain = "yes", multi = "l1\nl2", num = "12", empty = "", colon = "a: b"})
}
