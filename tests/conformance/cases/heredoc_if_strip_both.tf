output "result" {
  value = <<-EOT
    a
    %{~ if false ~}
    hidden
    %{~ else ~}
    shown
    %{~ endif ~}
    b
  EOT
}
