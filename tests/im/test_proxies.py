"""Which address is the client's (im.proxies; plain values, no sockets)."""

from __future__ import annotations

import pytest

from im.envconfig import ConfigError, load
from im.proxies import TrustedProxies
from im.settings import ServerSettings

PROXIES = TrustedProxies(["10.0.0.1", "192.168.0.0/16", "fd00::/8"])


def xff(*values: str) -> list[bytes]:
    return [v.encode() for v in values]


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    nobody = TrustedProxies([])
    assert not nobody
    assert nobody.client("127.0.0.1", xff("1.2.3.4")) == "127.0.0.1"


def test_an_untrusted_peer_cannot_name_another_client() -> None:
    assert PROXIES.client("10.0.0.2", xff("1.2.3.4")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("headers", "client"),
    [
        (xff("1.2.3.4"), "1.2.3.4"),
        (xff("9.9.9.9, 1.2.3.4"), "1.2.3.4"),  # left of the proxy's entry: the client's claim
        (xff("1.2.3.4, 192.168.5.5"), "1.2.3.4"),  # a chain of our proxies
        (xff("9.9.9.9", "1.2.3.4"), "1.2.3.4"),  # the header twice: one list
        (xff("1.2.3.4:5678"), "1.2.3.4"),
        (xff("[2001:db8::1]:443"), "2001:db8::1"),
        (xff("2001:db8::1"), "2001:db8::1"),
        (xff("192.168.1.1, 10.0.0.1"), "192.168.1.1"),  # every hop ours: the first
        (xff("1.2.3.4, "), "10.0.0.1"),  # the proxy named nobody: the proxy itself
        ([], "10.0.0.1"),
    ],
)
def test_a_trusted_proxy_names_the_rightmost_untrusted_entry(
    headers: list[bytes], client: str
) -> None:
    assert PROXIES.client("10.0.0.1", headers) == client


def test_ipv6_proxies_and_networks() -> None:
    assert PROXIES.trusts("fd12::1") and not PROXIES.trusts("fe80::1")
    assert not PROXIES.trusts("not an address")


def test_a_malformed_entry_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        TrustedProxies(["10.0.0.300"])
    with pytest.raises(ConfigError, match="IM_TRUSTED_PROXIES"):
        load(ServerSettings, {"IM_TRUSTED_PROXIES": "10.0.0.1, *"})
    settings = load(ServerSettings, {"IM_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16"})
    assert settings.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
