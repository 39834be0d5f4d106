output "result" {
  value = <<EOT
  keep ${"spaces"}
EOT
}
