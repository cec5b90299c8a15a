"""HTTP calls for the benchmarks with the standard library: a bench runs in a `make run` virtualenv,
which has no `requests` (a test-only package)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


def http_get(url: str, *, params: dict | None = None, headers: dict | None = None, timeout: float) -> bytes:
    """The body; urllib.error.HTTPError for an error status, urllib.error.URLError when nothing answers."""
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
        return response.read()


def http_post_json(url: str, body: dict, *, headers: dict | None = None, timeout: float) -> bytes:
    """POST `body` as JSON; the answer's body, or urllib.error.HTTPError for an error status."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={**(headers or {}), "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()
