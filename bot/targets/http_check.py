"""The runbooks' curl loop: status and latency of an allow-listed health URL over N samples."""

from __future__ import annotations

import base64
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass
class Sample:
    status: int | None
    ms: float
    error: str = ""


_TOKENISH = re.compile(r"^(?=.*\d)[A-Za-z0-9._~+=-]{12,}$|^[0-9a-fA-F-]{16,}$")


def shown(url: str) -> str:
    """A health URL as people may see it: scheme, host and the path's shape. Credentials are
    dropped, query values and path segments that look like tokens (`/ping/<token>`) are
    replaced, since a secret there is not named like one."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    path = "/".join("…" if _TOKENISH.match(seg) else seg for seg in parts.path.split("/"))
    query = "&".join(
        f"{k}=…" for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit((parts.scheme, host, path, query, ""))


def _split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """urllib cannot take user:password@ in a URL: send it as Basic auth instead."""
    parts = urllib.parse.urlsplit(url)
    headers = {"User-Agent": "warroom-health/1"}
    if parts.username is None:
        return url, headers
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers["Authorization"] = f"Basic {token}"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), headers


def check(url: str, samples: int, timeout_s: float, pause_s: float = 0.2) -> list[Sample]:
    out: list[Sample] = []
    url, headers = _split_credentials(url)
    for i in range(samples):
        t0 = time.perf_counter()
        try:
            req = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(req, timeout=timeout_s) as r:
                r.read(1024)
                out.append(Sample(r.status, (time.perf_counter() - t0) * 1000))
        except urllib.error.HTTPError as e:
            out.append(Sample(e.code, (time.perf_counter() - t0) * 1000))
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            out.append(Sample(None, (time.perf_counter() - t0) * 1000, str(reason)[:100]))
        if i + 1 < samples:
            time.sleep(pause_s)
    return out
