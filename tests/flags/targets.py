"""Small log-level targets for the tests, served by gunicorn in their own processes.

`spring_app`: Spring Boot Actuator's loggers endpoint shape. `isolated_app`: the prodbug
contract with every worker keeping its own levels — a change reaches one worker only,
like a naive multi-worker service.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

Start = Callable[[str, list[tuple[str, str]]], Any]
_levels: dict[str, str | None] = {}


def _answer(start: Start, status: str, body: object) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def spring_app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if not path.startswith("/actuator/loggers/"):
        return _answer(start, "404 Not Found", {})
    name = path.removeprefix("/actuator/loggers/")
    if environ["REQUEST_METHOD"] == "POST":
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        level = body.get("configuredLevel")
        if level not in (None, "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"):
            return _answer(start, "400 Bad Request", {"error": "bad level"})
        _levels[name] = level
        start("204 No Content", [])
        return [b""]
    configured = _levels.get(name)
    return _answer(
        start, "200 OK", {"configuredLevel": configured, "effectiveLevel": configured or "INFO"}
    )


class _Busy(list[bytes]):
    """A response after which its worker stays busy for a moment (gunicorn calls close()
    after sending it), so the next requests are served by the other worker."""

    def close(self) -> None:
        time.sleep(0.3)


def isolated_app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
    if environ["PATH_INFO"] != "/admin/log-level":
        return _answer(start, "404 Not Found", {})
    if environ.get("HTTP_ADMIN_TOKEN") != "t0ken":
        return _answer(start, "403 Forbidden", {"error": "token"})
    if environ["REQUEST_METHOD"] == "POST":
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        logging.getLogger(body["module"]).setLevel(body["level"])
        return _Busy(_answer(start, "200 OK", {"module": body["module"], "level": body["level"]}))
    module = environ["QUERY_STRING"].removeprefix("module=")
    level = logging.getLevelName(logging.getLogger(module).getEffectiveLevel())
    return _answer(start, "200 OK", {"module": module, "level": level})


_posts = 0


def flaky_write_app(environ: dict[str, Any], start: Start) -> Iterable[bytes]:
    """The prodbug contract, but the first change answers 500 after it took effect: the
    caller cannot know whether it landed."""
    global _posts
    if environ["PATH_INFO"] != "/admin/log-level":
        return _answer(start, "404 Not Found", {})
    if environ["REQUEST_METHOD"] == "POST":
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        logging.getLogger(body["module"]).setLevel(body["level"])
        _posts += 1
        if _posts == 1:
            return _answer(start, "500 Internal Server Error", {"error": "boom"})
        return _answer(start, "200 OK", {"module": body["module"], "level": body["level"]})
    module = environ["QUERY_STRING"].removeprefix("module=")
    level = logging.getLevelName(logging.getLogger(module).getEffectiveLevel())
    return _answer(start, "200 OK", {"module": module, "level": level})
