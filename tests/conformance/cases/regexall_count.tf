output "result" {
  value = length(regexall("x", "xaxbx"))
}
