# Who does what (CONTRACT §3): the zerotier controller deploys before its peers; every machine gets users.
inventory {
  service "zerotier" {
    role "controller" {
      machines = ["cinnabar"]
    }
    role "peer" {
      machines = ["electrum", "galena", "scheelite"]
      after    = ["controller"]
    }
    settings = { network_name = "quickstart" }
  }

  service "users" {
    role "default" {
      tags = ["all"]
    }
  }
}

# The network id: made once and shared by every machine of the network.
vars "zerotier-network" {
  share = true
  file "network_id" {
    secret = false
  }
  script = "od -An -N8 -tx1 /dev/urandom | tr -d ' \\n' > $out/network_id"
}

# What each peer runs to join: read from the network id through $in.
vars "zerotier-join" {
  machines     = ["electrum", "galena", "scheelite"]
  dependencies = ["zerotier-network"]
  file "command" {
    secret = false
  }
  script = "echo \"zerotier-cli join $(cat $in/zerotier-network/network_id)\" > $out/command"
}
