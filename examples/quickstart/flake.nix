{
  description = "reconciler quickstart: four machines whose NixOS systems build offline with Debian's nix";

  # No inputs: each system is a small NixOS-shaped derivation (nixos/system.nix) rather than a nixpkgs NixOS,
  # so that the whole loop (install, update, rollback) runs on a machine without any binary cache.
  outputs = { self }:
    let
      # written by `reconciler apply`: each machine's services, roles, settings and the other members
      inventory = builtins.fromJSON (builtins.readFile ./inventory.json);
      machine = name: import ./nixos/system.nix {
        inherit name;
        config = import (./machines + "/${name}.nix");
        inventory = inventory.machines.${name} or { services = { }; };
      };
      names = [ "cinnabar" "electrum" "galena" "scheelite" ];
    in {
      nixosConfigurations = builtins.listToAttrs (map (name: { inherit name; value = machine name; }) names);
    };
}
