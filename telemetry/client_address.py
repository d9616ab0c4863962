"""Which client address a request comes from, for login throttling and the audit log.

The connection's peer address, unless the peer is a trusted reverse proxy
(``TELEMETRY_TRUSTED_PROXIES``: addresses or networks, comma-separated;
default the loopback addresses): then the right-most ``X-Forwarded-For``
address that is not itself a trusted proxy. A client cannot choose its
address by sending the header itself unless it connects from a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable

TRUSTED_PROXIES_ENV = "TELEMETRY_TRUSTED_PROXIES"
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1"
LOOPBACK = "127.0.0.1"
UNKNOWN = "unknown"


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    configured = os.environ.get(TRUSTED_PROXIES_ENV, DEFAULT_TRUSTED_PROXIES)
    networks = []
    for item in configured.split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"{TRUSTED_PROXIES_ENV}: {item!r} is not an IP address or network; "
                    "use e.g. 10.0.0.5,192.168.0.0/24"
                ) from None
    return networks


def client_address(peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
    """The client's address: ``peer``, or what a trusted proxy says it forwarded for."""
    trusted = trusted_proxies()
    address = _parse(peer or LOOPBACK)
    if address is None:
        return UNKNOWN
    # X-Forwarded-For: client, proxy1, proxy2 (each proxy appends who it talked to).
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    while _is_trusted(address, trusted) and hops:
        forwarded = _parse(hops.pop())
        if forwarded is None:
            break
        address = forwarded
    return str(address)


def from_trusted_proxy(peer: str | None) -> bool:
    """Whether a connection from ``peer`` may tell us about the client (X-Forwarded-*)."""
    address = _parse(peer or LOOPBACK)
    return address is not None and _is_trusted(address, trusted_proxies())


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address, trusted) -> bool:
    return any(address in network for network in trusted)
