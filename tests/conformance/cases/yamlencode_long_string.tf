output "result" {
  value = yamlencode({ cmd = "echo this is a rather long line of text that goes well past eighty characters wide, surely it does" })
}
