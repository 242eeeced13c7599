"""Which bind addresses count as local, when a login is needed, trusted proxies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ikaros.errors import InputError
from ikaros.web.settings import Settings, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "0:0:0:0:0:0:0:1", " 127.0.0.1 "])
def test_local_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.2",
        "127.1.2.3",
        "127.255.255.254",
        "localhost",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "::",
        "10.0.0.1",
        "example.org",
        "",
    ],
)
def test_not_local(host: str) -> None:
    assert not is_loopback(host)


def test_open_access_only_on_local_without_options(tmp_path: Path) -> None:
    def settings(**kw: Any) -> Settings:
        return Settings.create(tmp_path / "d", **kw)

    assert settings().open_access
    assert settings(host="::1").open_access
    assert not settings(host="127.0.0.2").open_access
    assert not settings(host="localhost").open_access
    assert not settings(require_auth=True).open_access
    assert settings(require_auth=True).loopback  # still bound locally (Host header checked)
    behind = settings(trusted_proxies=["127.0.0.1"])
    assert not behind.open_access and behind.trusted_proxies == ("127.0.0.1",)
    assert settings(secure_cookies=True).secure_cookies


@pytest.mark.parametrize("proxy", ["proxy.example", "10.0.0.0/33", "1.2.3", ""])
def test_trusted_proxy_must_be_an_address(tmp_path: Path, proxy: str) -> None:
    with pytest.raises(InputError, match="trusted proxy must be an IP address or network"):
        Settings.create(tmp_path / "d", trusted_proxies=[proxy])


def test_trusted_proxy_networks(tmp_path: Path) -> None:
    s = Settings.create(tmp_path / "d", trusted_proxies=["10.0.0.0/24", "::1", "192.168.1.7"])
    assert s.trusted_proxies == ("10.0.0.0/24", "::1", "192.168.1.7")
