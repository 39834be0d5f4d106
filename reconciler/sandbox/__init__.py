"""The sandbox: local hosts (network namespaces with their own sshd and /nix) that stand in for cloud VMs,
an installer that does each nixos-anywhere phase to them, and `reconciler sandbox up|down|status`, which runs
the cloud API emulators with these hosts as the servers' addresses and keeps the whole world under
`.reconciler/sandbox/` of the configuration. Tests and benchmarks use the same hosts (`hosts.HostFarm`)."""
