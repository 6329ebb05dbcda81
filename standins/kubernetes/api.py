"""Kubernetes API stand-in on loopback HTTP for the official ``kubernetes`` client and kubectl:
``with K8sStandIn() as k: CoreV1Api(k.client()).list_namespaced_pod("default")``.
What it serves and enforces is listed in README.md beside this file."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from standins.http_server import KeepAliveServer, TrackedHandler
from standins.kubernetes import discovery, fields
from standins.kubernetes.control import K8sControl
from standins.kubernetes.hold import Hold
from standins.kubernetes.store import (
    DEPLOYMENT,
    RESOURCES,
    ApiError,
    Obj,
    Resource,
)
from standins.kubernetes.table import to_table, wants_table
from standins.kubernetes.telemetry import NODE_METRICS, POD_METRICS
from standins.kubernetes.watch import WatchStream

__all__ = ["ApiError", "K8sStandIn", "Request"]

log = logging.getLogger(__name__)
VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",  # kubectl 1.32 is within the supported skew of one minor
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T18:13:14Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class Request(NamedTuple):
    """One API request as received (``at`` is ``time.monotonic()`` on arrival)."""

    method: str
    path: str
    query: dict[str, str]
    at: float


class K8sStandIn(K8sControl):
    """Fake Kubernetes API server on 127.0.0.1; one lock around all state."""

    def __init__(
        self, port: int = 0, latency: float = 0.0, host: str = "127.0.0.1", seed: int = 7
    ) -> None:
        super().__init__(seed)
        self.latency = latency  # seconds added to every request; may be changed at runtime
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._requests: deque[Request] = deque(maxlen=100_000)  # bounded for long benchmarks
        self._holds: list[Hold] = []

    # -------------------------------------------------------------------- lifecycle
    def start(self) -> K8sStandIn:
        if self._server is None:
            self._server = _Server((self._host, self._port), _Handler)
            self._server.standin = self
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="k8s-standin-http",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()

    def __enter__(self) -> K8sStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serving(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` pointed at this stand-in (no auth, no TLS)."""
        from kubernetes import client as k8s  # the stand-in itself needs only the standard library

        config = k8s.Configuration(host=self.url)
        config.verify_ssl = False
        return k8s.ApiClient(config)

    @property
    def requests(self) -> list[Request]:
        with self.lock:
            return list(self._requests)

    def hold(self, method: str, path: str, applied: bool = True, timeout: float = 60) -> Hold:
        """Hold the next ``method`` request whose path ends with ``path`` until ``release()``
        (or ``timeout``): with ``applied`` after the change is stored and before the answer is
        sent (the client dies before it hears the outcome); without, before anything is done,
        and the request is then dropped unapplied (the client died before sending it)."""
        h = Hold(method, path, applied, timeout)
        with self.lock:
            self._holds.append(h)
        return h

    def _held(self, method: str, path: str, applied: bool) -> Hold | None:
        with self.lock:
            for h in self._holds:
                if h.applied == applied and h.matches(method, path):
                    self._holds.remove(h)
                    return h
        return None

    # --------------------------------------------------------------------- requests
    def handle(
        self,
        method: str,
        target: str,
        ctype: str,
        body: bytes,
        accept: str = "",
        agent: str = "",
    ) -> tuple[int, str, bytes | WatchStream]:
        """Serve one request: (HTTP status, content type, body or a watch stream)."""
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        with self.lock:
            self._requests.append(Request(method, url.path, query, time.monotonic()))
        if self.latency > 0:
            time.sleep(self.latency)  # outside the lock so concurrent requests overlap
        if (before := self._held(method, url.path, applied=False)) is not None:
            before.wait()
            err = ApiError(503, "ServiceUnavailable", "the client went away before sending")
            return 503, "application/json", json.dumps(err.status()).encode()
        answer = self._answer(method, url.path, query, ctype, body, accept, agent)
        if (after := self._held(method, url.path, applied=True)) is not None:
            after.wait()
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        ctype: str,
        body: bytes,
        accept: str,
        agent: str,
    ) -> tuple[int, str, bytes | WatchStream]:
        with self.lock:
            try:
                self.controller.tick()
                manager = query.get("fieldManager")
                if method in VERBS:
                    _check_manager(manager)
                self.store.manager = manager or fields.manager_from_agent(agent)
                out = self._route(method, path, query, ctype.split(";")[0].strip().lower(), body)
                if isinstance(out, WatchStream):
                    if wants_table(accept):
                        out.render = self._row_renderer(
                            out.res.kind, query.get("includeObject") or "Metadata"
                        )
                    return 200, "application/json", out
                if isinstance(out, str):
                    return 200, "text/plain", out.encode()
                if method == "GET" and wants_table(accept) and _tabular(out):
                    out = self._table(out, query.get("includeObject") or "Metadata")
                return 200, "application/json", json.dumps(out).encode()
            except ApiError as exc:
                return exc.code, "application/json", json.dumps(exc.status()).encode()
            finally:
                self.store.manager = "stand-in-control"

    def _table(self, out: Obj, include: str) -> Obj:
        if out.get("kind", "").endswith("List") and "items" in out:
            kind = out["kind"][: -len("List")]
            rv = out["metadata"]["resourceVersion"]
            return to_table(kind, out["items"], rv, self.store.now(), include)
        rv = out["metadata"].get("resourceVersion", "")
        return to_table(out["kind"], [out], rv, self.store.now(), include)

    def _row_renderer(self, kind: str, include: str) -> Any:
        def render(obj: Obj) -> Obj:
            with self.lock:
                now = self.store.now()
            rv = obj["metadata"].get("resourceVersion", "")
            return to_table(kind, [obj], rv, now, include)

        return render

    def _discovery(self, parts: list[str]) -> Obj | None:
        if parts == ["api"]:
            return discovery.api_versions(f"{self._host}:{self._port}")
        if parts == ["apis"]:
            return discovery.api_groups(self.metrics_enabled)
        if parts == ["api", "v1"]:
            return discovery.resource_list("v1", self.metrics_enabled)
        if len(parts) == 3 and parts[0] == "apis":
            found = discovery.resource_list(f"{parts[1]}/{parts[2]}", self.metrics_enabled)
            if found is None:
                raise ApiError.no_route()
            return found
        return None

    def _route(
        self, method: str, path: str, q: dict[str, str], ctype: str, body: bytes
    ) -> Obj | str:
        parts = [p for p in path.split("/") if p]
        if parts == ["version"] and method == "GET":
            return dict(VERSION)
        if method == "GET" and (doc := self._discovery(parts)) is not None:
            return doc
        if parts[:2] == ["api", "v1"]:
            gv, rest = "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError.no_route()
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if gv == "metrics.k8s.io/v1beta1":
            if method != "GET" or not rest or rest[0] not in ("pods", "nodes") or len(rest) > 2:
                raise ApiError.no_route()
            name = rest[1] if len(rest) > 1 else None
            metrics_res = POD_METRICS if rest[0] == "pods" else NODE_METRICS
            self.authorize("get" if name else "list", metrics_res, "", ns, name)
            return self.metrics(rest[0], ns, name, q.get("labelSelector"))
        res = RESOURCES.get((gv, rest[0])) if rest else None
        if res is None or len(rest) > 3 or (ns is not None and not res.namespaced):
            raise ApiError.no_route()
        name, sub = (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else "")
        watch = q.get("watch") in ("true", "1")
        verb = VERBS.get(method, "watch" if watch else "get" if name else "list")
        self.authorize(verb, res, sub, ns, name)
        self.collide(verb, res, sub, ns, name)
        dry = q.get("dryRun") == "All"
        if watch:
            if method != "GET" or sub:
                raise ApiError.no_route()
            stream = WatchStream(self.store, self.controller.tick, self._serving, res, ns, q)
            if name is not None:  # GET .../deployments/x?watch=1, the old form
                stream.fields.append(("metadata.name", True, name))
            return stream
        if name is None:
            if method == "GET":
                return self.list_objects(res, ns, q.get("labelSelector"), q.get("fieldSelector"))
            if method == "POST":
                return self.create_object(res, ns, _json(body), dry)
        elif sub in ("", "status"):
            if method == "GET":
                return self.get_object(res, ns, name)
            if method == "PUT":
                return self.replace_object(res, ns, name, _json(body), dry)
            if method == "PATCH":
                return self.patch_object(res, ns, name, ctype, body, dry)
            if method == "DELETE" and not sub:
                return self._deleted(res, self.delete_object(res, ns, name))
        elif sub == "log" and res.kind == "Pod" and method == "GET":
            return self.pod_log(ns or "", name, q)
        elif sub == "scale" and res is DEPLOYMENT and method in ("GET", "PATCH", "PUT"):
            if method == "GET":
                return self.get_scale(ns or "", name)
            return self.update_scale(
                ns or "", name, ctype if method == "PATCH" else None, body, dry
            )
        else:
            raise ApiError.no_route()
        raise ApiError(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            {},
        )

    @staticmethod
    def _deleted(res: Resource, obj: Obj) -> Obj:
        if res.kind == "Pod":
            return obj  # a pod is answered with itself, as during its grace period
        details = {
            "name": obj["metadata"]["name"],
            "group": res.group,
            "kind": res.name,
            "uid": obj["metadata"]["uid"],
        }
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }


def _tabular(out: Obj) -> bool:
    kind = out.get("kind", "")
    return kind not in ("Status", "Scale") and ("metadata" in out)


def _check_manager(manager: str | None) -> None:
    """ValidateFieldManager: at most 128 characters, all printable."""
    if manager is None:
        return
    if len(manager) > 128:
        why = "Too long: may not be more than 128 bytes"
        raise ApiError.invalid_options("metadata.managedFields.manager", why)
    if not manager.isprintable():
        why = f"Invalid value: {json.dumps(manager)}: must only contain printable characters"
        raise ApiError.invalid_options("metadata.managedFields.manager", why)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError.bad_request(f"error decoding request body: {exc}") from None


class _Server(KeepAliveServer):
    standin: K8sStandIn


class _Handler(TrackedHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, ctype, out = self.server.standin.handle(
                self.command,
                self.path,
                self.headers.get("Content-Type", ""),
                body,
                self.headers.get("Accept", ""),
                self.headers.get("User-Agent", ""),
            )
        except Exception:  # a stand-in bug must look like a server error, not a hang
            log.exception("k8s stand-in failed on %s %s", self.command, self.path)
            err = ApiError(
                500,
                "InternalError",
                "an error on the server has prevented the request from succeeding",
            )
            status, ctype, out = 500, "application/json", json.dumps(err.status()).encode()
        if isinstance(out, WatchStream):
            self._stream(ctype, out)
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:  # the client went away (killed while its request was held)
            self.close_connection = True

    def _stream(self, ctype: str, stream: WatchStream) -> None:
        """A watch: one chunk per event line, flushed at once; the connection then closes."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for line in stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass  # the client went away

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
