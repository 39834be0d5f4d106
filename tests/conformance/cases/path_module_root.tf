output "result" {
  value = [path.module, path.root]
}
