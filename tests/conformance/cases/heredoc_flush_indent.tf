output "result" {
  value = <<-EOT
      deep
    shallow
        deeper
    EOT
}
