output "result" {
  value = {for s in ["web", "db"] : s => length(s)}
}
