{
  description = "reconciler quickstart: four machines whose NixOS systems build offline with Debian's nix";

  # No inputs: each system is a small NixOS-shaped derivation (nixos/system.nix) rather than a nixpkgs NixOS,
  # so that the whole loop (install, update, rollback) runs on a machine without any binary cache.
  outputs = { self }:
    let
      # written by `reconciler apply` (format 2): each service's settings and role members, each machine's
      # address and roles. A machine's view: for each of its services, its roles, the settings, and every
      # role's members with their addresses.
      inv = builtins.fromJSON (builtins.readFile ./inventory.json);
      view = name: {
        services = builtins.mapAttrs (svc: roles: {
          inherit roles;
          settings = inv.services.${svc}.settings or { };
          members = builtins.mapAttrs
            (role: ms: map (m: { name = m; address = inv.machines.${m}.address or null; }) ms)
            (inv.services.${svc}.roles or { });
        }) ((inv.machines.${name} or { }).roles or { });
      };
      machine = name: import ./nixos/system.nix {
        inherit name;
        config = import (./machines + "/${name}.nix");
        inventory = view name;
      };
      names = [ "cinnabar" "electrum" "galena" "scheelite" ];
    in {
      nixosConfigurations = builtins.listToAttrs (map (name: { inherit name; value = machine name; }) names);
    };
}
