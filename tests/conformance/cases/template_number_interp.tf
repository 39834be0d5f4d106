output "result" {
  value = "n=${1.50}"
}
