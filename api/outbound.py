"""Where the server may send webhooks: public addresses only, checked where it connects.

An admin registers a webhook URL and the server POSTs signed facts there. Left open, that lets an
admin key make the server call its own network: the database (`http://127.0.0.1:5432/`), a cloud's
metadata service (`http://169.254.169.254/`), the server's own routes. So a destination whose host
resolves to a loopback, private, link-local, shared, multicast, reserved or unspecified address is
refused, at registration and again at each delivery, on the address actually connected to (a name
may resolve elsewhere after registration): the connection is opened to the address checked, never
resolved twice. Redirects are not followed. A server setting names the hosts allowed anyway
(`COOPLEDGER_WEBHOOK_ALLOWED_HOSTS`, comma-separated: a receiver on the same machine or network).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

ALLOWED_HOSTS_ENV = "COOPLEDGER_WEBHOOK_ALLOWED_HOSTS"
MAX_RESPONSE_BYTES = 64 * 1024  # the receiver's answer is read (and dropped) up to this much

Resolver = Callable[[str, int], list[str]]


class DestinationRefused(ValueError):
    """The URL's host is, or resolves to, an address the server does not send to."""


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


resolver: Resolver = _resolve  # tests swap it for a stub, as a DNS change would


def allowed_hosts() -> frozenset[str]:
    return frozenset(h.strip().lower() for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip())


def why_refused(address: str) -> str | None:
    """Why the server does not connect to this IP address, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for flag in ("loopback", "private", "link_local", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{flag}"):
            return f"{address} is a {flag.replace('_', '-')} address"
    if not ip.is_global:  # shared (100.64/10), documentation ranges...
        return f"{address} is not a public address"
    return None


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def addresses(url: str) -> list[str]:
    """The addresses the server may connect to for `url`. Raises DestinationRefused when the host
    is, or resolves to, a refused address (all of them are checked: any refused one refuses the URL,
    so a name cannot smuggle one in among public ones). A host the resolver does not know yields []
    (registration accepts it; each delivery then fails, and is retried, until it resolves)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        found = [str(ipaddress.ip_address(host))]  # a literal address: nothing to resolve
    except ValueError:
        try:
            found = resolver(host, _port(parts))
        except OSError:
            return []
    if host in allowed_hosts():
        return found
    for address in found:
        reason = why_refused(address)
        if reason is not None:
            raise DestinationRefused(reason if address == host else f"{host} resolves to {address}: {reason}")
    return found


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int | None, str | None]:
    """POSTs to a checked address: (HTTP status, error); error is None only for a 2xx answer. A
    refused destination, a redirect (not followed) or a connection failure is an error."""
    try:
        found = addresses(url)
    except DestinationRefused as exc:
        return None, f"destination refused: {exc}"
    if not found:
        return None, f"destination refused: {urlsplit(url).hostname} does not resolve"
    parts = urlsplit(url)
    connection_class = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = connection_class(parts.hostname or "", _port(parts), found[0], timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        if 200 <= response.status < 300:
            return response.status, None
        return response.status, f"HTTP {response.status} {response.reason}"
    except Exception as exc:  # noqa: BLE001 (connection refused, timeout, TLS...: recorded, retried)
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()
