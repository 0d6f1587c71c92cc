"""Calling the JSON API as a client would, with a bearer token."""

import json

from django.http import HttpResponse
from django.test import Client


def call(
    method: str, path: str, token: str | None, body: object = None, raw: str = ""
) -> HttpResponse:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw or (json.dumps(body) if body is not None else None)
    return getattr(Client(), method)(
        f"/api/v1{path}", data=data, content_type="application/json", **headers
    )
