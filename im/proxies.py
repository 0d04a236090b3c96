"""Who the client is: the TCP peer, or what a trusted proxy says it is.

`IM_TRUSTED_PROXIES` lists the addresses and networks of the proxies in front
of the node (empty by default: nobody is believed). A connection from one of
them carries the client's address in `X-Forwarded-For`, which every proxy on
the way appends to; the client is the rightmost entry that is not itself a
trusted proxy (entries further left were written by the client and prove
nothing). From any other peer the header is ignored.

uvicorn's own proxy-header middleware is switched off (it trusts 127.0.0.1 by
default, so anyone on the host could pick an address); the edge protocol
(im/edge.py) calls `client` once per request head and puts the answer into
the ASGI scope, so the login limiter and the connection caps see the same
address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        """`entries`: addresses or CIDR networks; ValueError names a malformed one."""
        self.networks: list[Network] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or network") from None

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: list[bytes]) -> str:
        """The client's address for a request from `peer` with these
        `X-Forwarded-For` header values (in the order received)."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        entries = b",".join(forwarded_for).decode("latin-1").split(",")
        hosts = [_host(e.strip()) for e in entries]
        for host in reversed(hosts):
            if not self.trusts(host):
                return host or peer  # an empty entry: the proxy named nobody
        return hosts[0] or peer  # every hop is a proxy of ours: the first one


def _host(entry: str) -> str:
    """The address of an `X-Forwarded-For` entry, without a port."""
    if entry.startswith("["):  # [v6]:port
        return entry[1 : entry.find("]")] if "]" in entry else entry
    if entry.count(":") == 1:  # v4:port
        return entry.split(":", 1)[0]
    return entry
