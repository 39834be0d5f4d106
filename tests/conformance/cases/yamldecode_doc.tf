output "result" {
  value = yamldecode("a: 1\nb: [x, y]\nc: {d: true}\n")
}
