"""Where a webhook may go (SSRF): https to a public address; plain http and private, loopback
or link-local addresses only for the hosts in ``MEDBOOK_WEBHOOK_ALLOW_HOSTS`` or with DEBUG on.
Checked when a subscription is saved and again before every POST (the name may since point
elsewhere), and the POST connects to the very addresses that were checked (:func:`resolve`):
resolving the name a second time to connect would let a name that answers a public address to
the check and a private one to the connection (DNS rebinding) reach the clinic's network."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import Invalid


def _trusted(host: str) -> bool:
    return settings.DEBUG or host in settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def addresses_of(host: str, port: int) -> list[str]:
    """The IP addresses ``host`` resolves to (a literal address: itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


@dataclass(frozen=True)
class Target:
    """A checked webhook address: where to connect (``addresses``, checked) and what to say
    there (scheme, host for the ``Host`` header and TLS, port, path with query)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_target(url: str) -> str:
    """``url`` cleaned, or :class:`Invalid` (on the ``url`` field) saying why it may not be
    used (a trusted host is not looked up: its receiver may not be running yet)."""
    return _checked(url, connecting=False).url


def resolve(url: str) -> Target:
    """``url`` checked and resolved once, to connect to: or :class:`Invalid` (on the ``url``
    field) saying why it may not be used."""
    return _checked(url, connecting=True)


def _checked(url: str, *, connecting: bool) -> Target:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Invalid(_("Enter a valid web address."), field="url") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise Invalid(_("Enter a valid web address."), field="url")
    if parts.username or parts.password:
        raise Invalid(_("The address may not contain a user name or password."), field="url")
    trusted = _trusted(host)
    if not trusted and parts.scheme != "https":
        raise Invalid(_("The address must start with https://."), field="url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if trusted and not connecting:
        return Target(url, parts.scheme, host, port, path, ())
    try:
        found = addresses_of(host, port)
    except (OSError, UnicodeError) as exc:
        raise Invalid(_("This address cannot be found."), field="url") from exc
    if not found:
        raise Invalid(_("This address cannot be found."), field="url")
    if not trusted and not all(_public(address) for address in found):
        raise Invalid(
            _("This address points into a private network; use a public address."), field="url"
        )
    return Target(url, parts.scheme, host, port, path, tuple(found))
