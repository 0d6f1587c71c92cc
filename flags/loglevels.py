"""Talking to a service's log-level endpoint: the `prodbug` contract and Spring Boot
Actuator's loggers endpoint. Every call goes through a fresh connection, so read-backs
reach different worker processes of a multi-worker target."""

from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from services.models import LogLevelProtocol

PRODBUG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SPRING_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF")
READBACKS = 5
TIMEOUT_S = 3.0


def levels_for(protocol: str) -> tuple[str, ...]:
    return SPRING_LEVELS if protocol == LogLevelProtocol.SPRING else PRODBUG_LEVELS


class TargetError(Exception):
    """The service could not be reached or answered something unusable."""


@dataclass(frozen=True)
class Reading:
    configured: str | None
    effective: str


@dataclass(frozen=True)
class Endpoint:
    protocol: str
    base_url: str
    token: str
    logger: str

    def _headers(self) -> dict[str, str]:
        # `Connection: close`: the next read lands on whichever worker accepts it.
        headers = {"Connection": "close", "Accept": "application/json"}
        if self.token:
            headers["admin_token"] = self.token
        return headers

    def _url(self) -> str:
        base = self.base_url.rstrip("/")
        if self.protocol == LogLevelProtocol.SPRING:
            return f"{base}/actuator/loggers/{quote(self.logger, safe='')}"
        return f"{base}/admin/log-level"

    async def read(self, client: httpx.AsyncClient) -> Reading:
        params = None if self.protocol == LogLevelProtocol.SPRING else {"module": self.logger}
        try:
            response = await client.get(self._url(), params=params, headers=self._headers())
        except httpx.HTTPError as exc:
            raise TargetError(_describe(exc)) from exc
        data = _json(response)
        if self.protocol == LogLevelProtocol.SPRING:
            configured = data.get("configuredLevel")
            return Reading(configured, str(data.get("effectiveLevel") or configured or ""))
        level = data.get("level")
        if not isinstance(level, str):
            raise TargetError(f"unexpected answer from {self._url()}: no level")
        return Reading(level, level)

    async def write(self, client: httpx.AsyncClient, level: str | None) -> None:
        if self.protocol == LogLevelProtocol.SPRING:
            body: dict[str, object] = {"configuredLevel": level}
        else:
            body = {"module": self.logger, "level": level}
        try:
            response = await client.post(self._url(), json=body, headers=self._headers())
        except httpx.HTTPError as exc:
            raise TargetError(_describe(exc)) from exc
        if response.status_code >= 300:
            raise TargetError(f"HTTP {response.status_code}: {response.text[:200]}")

    async def read_back(self, client: httpx.AsyncClient) -> Counter[str]:
        """The effective level as several fresh connections see it."""
        readings = []
        for _ in range(READBACKS):
            readings.append((await self.read(client)).effective)
        return Counter(readings)


def _json(response: httpx.Response) -> dict[str, object]:
    if response.status_code >= 300:
        raise TargetError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()
    except ValueError as exc:
        raise TargetError("the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise TargetError("the answer is not a JSON object")
    return data


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {TIMEOUT_S:.0f} s"
    return text


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=TIMEOUT_S,
        limits=httpx.Limits(max_keepalive_connections=0),
        trust_env=False,
        follow_redirects=False,
    )
