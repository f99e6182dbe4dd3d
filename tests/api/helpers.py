"""Calling the API as an app does: JSON in, JSON out, a bearer token, a language."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from medbook.api import tokens

PASSWORD = "Kq7!medbook-2026"


def call(
    client: Client,
    method: str,
    name: str,
    body: dict | None = None,
    *,
    token: str | None = None,
    language: str = "en",
    args: list | None = None,
    query: dict | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One request to route ``api:<name>``; the response with ``.json()``."""
    url = reverse(f"api:{name}", args=args or [])
    extra = {"HTTP_ACCEPT_LANGUAGE": language, **(headers or {})}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if method == "get":
        return client.get(url, query or {}, **extra)
    return getattr(client, method)(
        url, json.dumps(body or {}), content_type="application/json", **extra
    )


def log_in(client: Client, login: str, password: str = PASSWORD, **more: str) -> Any:
    return call(client, "post", "auth_token", {"login": login, "password": password, **more})


def pair_for(user: Any, *, second_factor: bool = False) -> tokens.TokenPair:
    """Tokens for ``user`` as a login would hand them out (for tests about what comes after)."""
    return tokens.issue_tokens(user=user, second_factor=second_factor)


def error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return response.status_code, body["error"]["code"]
