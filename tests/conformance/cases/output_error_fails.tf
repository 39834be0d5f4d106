output "result" { value = tonumber("x") }
