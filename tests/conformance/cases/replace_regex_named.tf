output "result" {
  value = replace("2024-01-02", "/(?P<y>\\d+)-(?P<m>\\d+)-(?P<d>\\d+)/", "$d.$m.$y")
}
