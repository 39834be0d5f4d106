output "result" {
  value = fileset("${path.module}/files", "**/*.txt")
}
