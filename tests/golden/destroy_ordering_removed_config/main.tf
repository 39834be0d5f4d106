variable "n" {
  default = 0
}
