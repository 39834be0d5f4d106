output "result" {
  value = format("%g %g %g", 1e6, 123456789, 0.0001)
}
