inventory {
  service "zerotier" {
    role "controller" {
      machines = ["cinnabar"]
    }
    role "peer" {
      machines = ["electrum", "galena", "scheelite"]
      after    = ["controller"]
    }
    settings = { network_name = "fleet" }
  }

  service "users" {
    role "default" {
      tags = ["all"]
    }
  }
}
