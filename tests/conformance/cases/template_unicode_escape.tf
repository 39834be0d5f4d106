output "result" {
  value = "\u00e9\t|"
}
