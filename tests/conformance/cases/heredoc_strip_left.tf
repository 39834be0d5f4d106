output "result" {
  value = <<EOT
start
    %{~ if true }kept%{ endif }
end
EOT
}
