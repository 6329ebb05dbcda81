"""One JSON request to an outside API over HTTP, with a timeout; the answer or a PageError.

Shared by the paging and status-page adapters. Nothing here logs: callers redact what they keep.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.paging.base import PageError


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    method: str,
    url: str,
    payload: dict[str, Any] | None,
    headers: dict[str, str],
    timeout: float,
) -> Answer:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    req.add_header("User-Agent", "warroom")
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Answer(resp.status, _json(resp.read()), dict(resp.headers.items()))
    except urllib.error.HTTPError as e:
        return Answer(e.code, _json(e.read()), dict(e.headers.items()))
    except TimeoutError:
        raise PageError(f"no answer within {timeout:g} s", retry=True) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, TimeoutError):
            raise PageError(f"no answer within {timeout:g} s", retry=True) from None
        raise PageError(f"could not connect: {reason.__class__.__name__}", retry=True) from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def retry_after(headers: dict[str, str]) -> float | None:
    for k, v in headers.items():
        if k.lower() == "retry-after":
            try:
                return max(0.0, float(v))
            except ValueError:
                return None
    return None


def refused(product: str, a: Answer, detail: str) -> PageError:
    """Map an HTTP refusal to a PageError: 429/420 and 5xx are retried, the rest are not."""
    if a.status in (420, 429):
        return PageError(
            f"{product} is throttling (HTTP {a.status})",
            retry=True,
            status=a.status,
            retry_after=retry_after(a.headers),
        )
    if a.status >= 500:
        return PageError(f"{product} failed (HTTP {a.status})", retry=True, status=a.status)
    if a.status in (401, 403):
        return PageError(
            f"{product} refused the key (HTTP {a.status}): check the key in the policy's "
            "environment variable",
            retry=False,
            status=a.status,
        )
    return PageError(
        f"{product} refused it (HTTP {a.status}): {detail}", retry=False, status=a.status
    )
