"""Where a webhook may go (SSRF): https to a public address; plain http and private, loopback
or link-local addresses only for the hosts in ``MEDBOOK_WEBHOOK_ALLOW_HOSTS`` or with DEBUG on.
Checked when a subscription is saved and again before every POST (the name may since point
elsewhere)."""

from __future__ import annotations

import ipaddress
import socket
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


def check_target(url: str) -> str:
    """``url`` cleaned, or :class:`Invalid` (on the ``url`` field) saying why it may not be
    used."""
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
    if _trusted(host):
        return url
    if parts.scheme != "https":
        raise Invalid(_("The address must start with https://."), field="url")
    try:
        found = addresses_of(host, port)
    except (OSError, UnicodeError) as exc:
        raise Invalid(_("This address cannot be found."), field="url") from exc
    if not found or not all(_public(address) for address in found):
        raise Invalid(
            _("This address points into a private network; use a public address."), field="url"
        )
    return url
