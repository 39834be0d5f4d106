output "result" {
  value = format("%f %.2f %e %E %g", 3.14159, 3.14159, 12345.678, 0.5, 1e21)
}
