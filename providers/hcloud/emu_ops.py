"""What the emulator does for each mutating API call: validate as the API does, change the world, start the
action that finishes the job on the emulated clock, and answer with the documented JSON.

Every function runs under the world's lock (the HTTP layer holds it) and raises `ApiError` for an error
answer: `invalid_input`, `uniqueness_error`, `resource_unavailable`, `resource_limit_exceeded`, `locked`,
`server_not_stopped`, `invalid_server_type`, `not_found`.
"""

from __future__ import annotations

from typing import Any

from providers.hcloud.emu_model import (
    ActionRec,
    ApiError,
    ServerRec,
    SshKeyRec,
    invalid_input,
    render_server,
    render_ssh_key,
)
from providers.hcloud.emu_world import HOSTNAME, World, check_labels, fingerprint

SERVER_COMMANDS = {  # API path segment -> action command
    "poweron": "start_server", "poweroff": "stop_server", "shutdown": "shutdown_server",
    "reboot": "reboot_server", "reset": "reset_server", "change_type": "change_server_type",
    "enable_backup": "enable_backup", "disable_backup": "disable_backup",
}
STATUS_DURING = {"start_server": "starting", "stop_server": "stopping", "shutdown_server": "stopping",
                 "reboot_server": "starting", "reset_server": "starting", "change_server_type": "migrating"}
STATUS_AFTER = {"start_server": "running", "stop_server": "off", "shutdown_server": "off",
                "reboot_server": "running", "reset_server": "running", "change_server_type": "off"}


def _server_json(world: World, s: ServerRec) -> dict[str, Any]:
    return render_server(s, world.catalog, world.knobs.unavailable)


def _unique_name(world: World, name: str, except_id: int | None = None) -> None:
    if any(s.name == name and s.id != except_id for s in world.servers.values()):
        raise ApiError(409, "uniqueness_error", "server name is already used",
                       {"fields": [{"name": "name"}]})


def _capacity(world: World, location: str, server_type: str) -> bool:
    blocked = world.knobs.unavailable.get(location)
    return blocked is None or (bool(blocked) and server_type not in blocked and "*" not in blocked)


def create_server(world: World, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not HOSTNAME.match(name):
        raise invalid_input("name", "must be a valid hostname")
    spec = world.catalog.find_type(body.get("server_type"))
    if spec is None:
        raise invalid_input("server_type", f"server type {body.get('server_type')!r} not found")
    image = world.catalog.find_image(body.get("image"), spec.architecture)
    if image is None:
        raise invalid_input("image", f"image {body.get('image')!r} not found for architecture {spec.architecture}")
    labels = check_labels(body.get("labels"))
    user_data = body.get("user_data")
    if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 32 * 1024):
        raise invalid_input("user_data", "must be a string of at most 32 KiB")
    keys = [world.resolve_ssh_key(ref).id for ref in body.get("ssh_keys") or []]
    location = body.get("location") or body.get("datacenter", "").split("-")[0] or None
    if location is not None and location not in world.catalog.locations:
        raise invalid_input("location", f"location {location!r} not found")
    if location is not None and location not in spec.prices:
        raise ApiError(412, "unsupported_location_for_server_type",
                       f"server type {spec.name} is not available in location {location}")
    if location is None:
        location = next((loc for loc in spec.prices if _capacity(world, loc, spec.name)), None)
        if location is None:
            raise ApiError(412, "resource_unavailable", f"server type {spec.name} is unavailable in every location")
    elif not _capacity(world, location, spec.name):
        raise ApiError(412, "resource_unavailable",
                       f"server type {spec.name} is currently unavailable in location {location}")
    _unique_name(world, name)
    limit = world.knobs.server_limit
    if limit is not None and len(world.servers) >= limit:
        raise ApiError(403, "resource_limit_exceeded", "server limit exceeded",
                       {"limits": [{"name": "server_limit"}]})
    public_net = body.get("public_net") or {}
    firewalls = [int(f["firewall"]) for f in body.get("firewalls") or []]
    sid = world.next_id()
    server = ServerRec(sid, name, spec.name, location, image["id"], world.now(), labels,
                       world._take_ipv4(name) if public_net.get("enable_ipv4", True) else None,
                       f"2001:db8:{sid // 65536:x}:{sid % 65536:x}::/64" if public_net.get("enable_ipv6", True)
                       else None, spec.disk, firewalls=firewalls, ssh_keys=keys, user_data=user_data,
                       ipv4_id=100000 + sid, ipv6_id=200000 + sid)
    world.servers[sid] = server
    start = body.get("start_after_create", True) is not False

    def created(action: ActionRec) -> None:
        if action.status == "error":
            world.release(server)
            world.servers.pop(sid, None)
        elif not start:
            server.status = "off"

    def started(action: ActionRec) -> None:
        if sid in world.servers and action.status == "success":
            server.status = "running"

    action = world.new_action("create_server", sid, effect=created)
    next_actions = []
    if start:
        next_actions.append(world.new_action("start_server", sid, start=action.finishes, effect=started))
    now = world.now()
    return {"server": _server_json(world, server), "action": action.render(now),
            "next_actions": [a.render(now) for a in next_actions],
            "root_password": None if keys else f"emulated-{sid}"}


def update_server(world: World, sid: int, body: dict[str, Any]) -> dict[str, Any]:
    server = world.server(sid)
    if "name" in body:
        if not isinstance(body["name"], str) or not HOSTNAME.match(body["name"]):
            raise invalid_input("name", "must be a valid hostname")
        _unique_name(world, body["name"], sid)
    labels = check_labels(body["labels"]) if "labels" in body else None
    if "name" in body:
        server.name = body["name"]
    if labels is not None:
        server.labels = labels
    return {"server": _server_json(world, server)}


def delete_server(world: World, sid: int) -> dict[str, Any]:
    server = world.server(sid)
    if server.status == "deleting":
        running = [a for a in world.running_actions(sid) if a.command == "delete_server"]
        if running:
            return {"action": running[0].render(world.now())}
    server.status = "deleting"

    def gone(action: ActionRec) -> None:
        world.release(server)
        world.servers.pop(sid, None)

    return {"action": world.new_action("delete_server", sid, effect=gone).render(world.now())}


def server_action(world: World, sid: int, verb: str, body: dict[str, Any]) -> dict[str, Any]:
    command = SERVER_COMMANDS.get(verb)
    if command is None:
        raise ApiError(404, "not_found", f"unknown server action {verb!r}")
    server = world.server(sid)
    if world.running_actions(sid) or server.status == "deleting":
        raise ApiError(423, "locked", "server is locked: another action is running")
    after = STATUS_AFTER.get(command)
    if command == "change_server_type":
        if server.status != "off":
            raise ApiError(412, "server_not_stopped", "server must be stopped before changing its type")
        spec = world.catalog.find_type(body.get("server_type"))
        if spec is None:
            raise invalid_input("server_type", f"server type {body.get('server_type')!r} not found")
        old = world.catalog.find_type(server.server_type)
        upgrade = bool(body.get("upgrade_disk", False))
        if old is not None and (spec.architecture != old.architecture or spec.disk < server.primary_disk_size):
            raise ApiError(422, "invalid_server_type",
                           f"server type {spec.name} does not fit this server (architecture {spec.architecture}, "
                           f"{spec.disk} GB disk; the server has {old.architecture}, {server.primary_disk_size} GB)")
        if server.location not in spec.prices:
            raise invalid_input("server_type", f"server type {spec.name} is not available in {server.location}")

        def retyped(action: ActionRec) -> None:
            if action.status == "success":
                server.server_type = spec.name
                if upgrade:
                    server.primary_disk_size = spec.disk
            server.status = "off"

        effect = retyped
    elif command in ("enable_backup", "disable_backup"):
        window = "22-02" if command == "enable_backup" else None

        def backups(action: ActionRec) -> None:
            if action.status == "success":
                server.backup_window = window

        effect = backups
    else:
        before = server.status

        def power(action: ActionRec) -> None:
            server.status = after if action.status == "success" and after else before

        effect = power
    if command in STATUS_DURING:
        server.status = STATUS_DURING[command]
    return {"action": world.new_action(command, sid, effect=effect).render(world.now())}


def create_ssh_key(world: World, body: dict[str, Any]) -> dict[str, Any]:
    name, public_key = body.get("name"), body.get("public_key")
    if not isinstance(name, str) or not name:
        raise invalid_input("name", "is required")
    if not isinstance(public_key, str) or not public_key.strip():
        raise invalid_input("public_key", "is required")
    fp = fingerprint(public_key)
    labels = check_labels(body.get("labels"))
    for k in world.ssh_keys.values():
        if k.name == name:
            raise ApiError(409, "uniqueness_error", "SSH key with the same name already exists",
                           {"fields": [{"name": "name"}]})
        if k.fingerprint == fp:
            raise ApiError(409, "uniqueness_error", "SSH key with the same fingerprint already exists",
                           {"fields": [{"name": "public_key"}]})
    key = SshKeyRec(world.next_id(), name, public_key.strip(), fp, labels, world.now())
    world.ssh_keys[key.id] = key
    return {"ssh_key": render_ssh_key(key)}


def update_ssh_key(world: World, kid: int, body: dict[str, Any]) -> dict[str, Any]:
    key = world.ssh_key(kid)
    if "name" in body:
        if any(k.name == body["name"] and k.id != kid for k in world.ssh_keys.values()):
            raise ApiError(409, "uniqueness_error", "SSH key with the same name already exists",
                           {"fields": [{"name": "name"}]})
        key.name = body["name"]
    if "labels" in body:
        key.labels = check_labels(body["labels"])
    return {"ssh_key": render_ssh_key(key)}


def delete_ssh_key(world: World, kid: int) -> None:
    world.ssh_key(kid)
    del world.ssh_keys[kid]
