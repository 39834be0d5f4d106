variable "gpu_enabled" {
  type        = bool
  default     = false
  description = "Run the GPU node (scheelite). Turn it on for a day, off again, and get the same machine back."
}

variable "cpu_enabled" {
  type    = bool
  default = true
}

variable "hcloud_token" {
  type      = string
  default   = "offline"
  sensitive = true
}

variable "web_nodes" {
  type    = set(string)
  default = ["electrum", "galena"]

  validation {
    condition     = length(var.web_nodes) > 0
    error_message = "At least one web node is needed."
  }
}

variable "admin_key" {
  type    = string
  default = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE admin@example"
}
