"""Validation of health-check targets, shared by forms, API and the runners.

Each parser raises TargetError with a message fit to show next to the field.
"""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from psycopg import conninfo
from psycopg.errors import ProgrammingError

# Cloud metadata and link-local: never a legitimate health-check target, a classic SSRF aim.
FORBIDDEN_NETWORKS = [
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
]


class TargetError(ValueError):
    pass


def forbidden_address(host: str) -> bool:
    """True for an IP literal (or IPv4-mapped IPv6) in a forbidden network."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in FORBIDDEN_NETWORKS)


def _check_host(host: str | None) -> str:
    if not host:
        raise TargetError("The address has no host.")
    if forbidden_address(host):
        raise TargetError(f"{host} is a link-local/cloud-metadata address; it is not allowed.")
    return host


def _check_network_url(parts: SplitResult) -> None:
    """Port in range and an allowed host, for URLs that name a network address."""
    try:
        port = parts.port
    except ValueError as exc:
        raise TargetError("The port must be a number between 1 and 65535.") from exc
    if port == 0:
        raise TargetError("The port must be a number between 1 and 65535.")
    _check_host(parts.hostname)


def parse_http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise TargetError("Use an http:// or https:// URL.")
    _check_network_url(parts)
    return value.strip()


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int


_HOSTPORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.%]+)\]|(?P<host>[A-Za-z0-9_.-]+)):(?P<port>\d+)$")


def parse_host_port(value: str) -> HostPort:
    match = _HOSTPORT.match(value.strip())
    if not match:
        raise TargetError("Use host:port, e.g. db.internal:5432 or [::1]:6379.")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise TargetError(f"Port {port} is out of range (1–65535).")
    host = match["v6"] or match["host"]
    return HostPort(_check_host(host), port)


def parse_postgres_dsn(value: str) -> dict[str, str]:
    try:
        params = conninfo.conninfo_to_dict(value.strip())
    except ProgrammingError as exc:
        raise TargetError(f"Cannot parse the PostgreSQL DSN: {str(exc).splitlines()[0]}") from exc
    for host in str(params.get("host") or "").split(","):
        if host and not host.startswith("/"):
            _check_host(host)
    port = str(params.get("port") or "5432")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise TargetError(f"Port {port} is out of range (1–65535).")
    return {k: str(v) for k, v in params.items()}


def parse_redis_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise TargetError("Use a redis://, rediss:// or unix:// URL.")
    if parts.scheme != "unix":
        _check_network_url(parts)
    return value.strip()


def redact(value: str) -> str:
    """A DSN or URL with its password replaced, safe to show and log."""
    value = value.strip()
    if "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
            if parts.port:
                netloc += f":{parts.port}"
            return urlunsplit(parts._replace(netloc=netloc))
        return value
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", value)


def parse_expected_status(value: str) -> tuple[int, int]:
    """ "200" or "200-399" → inclusive range."""
    match = re.fullmatch(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?", value or "")
    if not match:
        raise TargetError("Use a status code like 200 or a range like 200-399.")
    low, high = int(match[1]), int(match[2] or match[1])
    if not (100 <= low <= high <= 599):
        raise TargetError("Status codes run from 100 to 599, low before high.")
    return low, high
