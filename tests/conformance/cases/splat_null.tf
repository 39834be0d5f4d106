output "result" {
  value = length(null[*])
}
