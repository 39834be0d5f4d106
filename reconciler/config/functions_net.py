"""Terraform's IP network, numeric and time functions: cidrsubnet(s), cidrhost, cidrnetmask (Python's
`ipaddress`); abs, ceil, floor, pow, log, signum, parseint; timeadd and timecmp on RFC 3339 timestamps.

Like Terraform, cidrsubnet/cidrhost accept a prefix whose address has host bits set (they are ignored)
and count host numbers from the end of the range when negative.
"""

from __future__ import annotations

import datetime
import ipaddress
import math
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_int, as_number, as_string
from reconciler.config.valueops import ValueProblem, normalize_number

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(prefix: Any) -> Network:
    text = as_string(prefix, "the prefix")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueProblem(f'invalid CIDR expression: "{text}"') from None


def _subnet(net: Network, newbits: int, num: int) -> Network:
    new_prefix = net.prefixlen + newbits
    if newbits < 0 or new_prefix > net.max_prefixlen:
        raise ValueProblem(f"insufficient address space to extend prefix of {net.prefixlen} by {newbits}")
    if num < 0 or num >= 1 << newbits:
        raise ValueProblem(f"prefix extension of {newbits} does not accommodate a subnet numbered {num}")
    base = int(net.network_address) + (num << (net.max_prefixlen - new_prefix))
    return ipaddress.ip_network((base, new_prefix))


def cidrsubnet(_: Path, prefix: Any, newbits: Any, netnum: Any) -> Any:
    return str(_subnet(_network(prefix), as_int(newbits, "newbits"), as_int(netnum, "netnum")))


def cidrhost(_: Path, prefix: Any, hostnum: Any) -> Any:
    net = _network(prefix)
    n = as_int(hostnum, "hostnum")
    size = net.num_addresses
    if n < 0:
        n += size
    if n < 0 or n >= size:
        raise ValueProblem(f"prefix of {net.prefixlen} does not accommodate a host numbered {as_int(hostnum, '')}")
    return str(net.network_address + n)


def cidrnetmask(_: Path, prefix: Any) -> Any:
    net = _network(prefix)
    if net.version != 4:
        raise ValueProblem("only IPv4 networks have a netmask")
    return str(net.netmask)


def cidrsubnets(_: Path, prefix: Any, *newbits: Any) -> Any:
    net = _network(prefix)
    out: list[str] = []
    current = int(net.network_address)
    for i, nb in enumerate(newbits, 2):
        bits = as_int(nb, f"argument {i}")
        length = net.prefixlen + bits
        if bits < 1 or length > net.max_prefixlen:
            raise ValueProblem(f"argument {i}: would extend prefix to {length} bits, which is too long for "
                               f"an IPv{net.version} address")
        block = 1 << (net.max_prefixlen - length)
        current = -(-current // block) * block  # align up to this subnet's size
        if current + block > int(net.network_address) + net.num_addresses:
            raise ValueProblem(f"argument {i}: not enough remaining address space for a subnet with a prefix "
                               f"of {length} bits")
        out.append(str(ipaddress.ip_network((current, length))))
        current += block
    return out


def abs_(_: Path, n: Any) -> Any:
    return normalize_number(abs(as_number(n, "the argument")))


def ceil(_: Path, n: Any) -> Any:
    return math.ceil(as_number(n, "the argument"))


def floor(_: Path, n: Any) -> Any:
    return math.floor(as_number(n, "the argument"))


def pow_(_: Path, base: Any, exp: Any) -> Any:
    try:
        return normalize_number(as_number(base, "the base") ** as_number(exp, "the exponent"))
    except (OverflowError, ZeroDivisionError):
        raise ValueProblem("the result is not a finite number") from None


def log(_: Path, n: Any, base: Any) -> Any:
    try:
        return normalize_number(math.log(as_number(n, "the number"), as_number(base, "the base")))
    except (ValueError, ZeroDivisionError):
        raise ValueProblem("the result is not a finite number") from None


def signum(_: Path, n: Any) -> Any:
    v = as_number(n, "the argument")
    return (v > 0) - (v < 0)


def parseint(_: Path, text: Any, base: Any) -> Any:
    s, b = as_string(text, "the number"), as_int(base, "the base")
    if not 2 <= b <= 62:
        raise ValueProblem("base must be a whole number between 2 and 62 inclusive")
    try:
        return int(s, b) if b <= 36 else _parse_base62(s, b)
    except ValueError:
        raise ValueProblem(f'cannot parse "{s}" as a base {b} integer') from None


def _parse_base62(s: str, b: int) -> int:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    sign, body = (-1, s[1:]) if s.startswith("-") else (1, s.removeprefix("+"))
    if not body:
        raise ValueError(s)
    value = 0
    for c in body:
        d = digits.find(c)
        if d < 0 or d >= b:
            raise ValueError(s)
        value = value * b + d
    return sign * value


def _rfc3339(value: Any, what: str) -> datetime.datetime:
    text = as_string(value, what)
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in text.upper():
        raise ValueProblem(f'{what} "{text}" is not a valid RFC3339 timestamp, e.g. "2024-01-02T15:04:05Z"')
    return parsed


def _format_rfc3339(t: datetime.datetime) -> str:
    offset = t.utcoffset() or datetime.timedelta(0)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if not offset:
        return base + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{base}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def timeadd(_: Path, timestamp: Any, duration: Any) -> Any:
    from reconciler.config.duration import BadDuration, seconds

    t = _rfc3339(timestamp, "the timestamp")
    try:
        delta = seconds(as_string(duration, "the duration"))
    except BadDuration as e:
        raise ValueProblem(str(e)) from None
    return _format_rfc3339(t + datetime.timedelta(seconds=delta))


def timecmp(_: Path, a: Any, b: Any) -> Any:
    ta, tb = _rfc3339(a, "the first timestamp"), _rfc3339(b, "the second timestamp")
    return (ta > tb) - (ta < tb)
