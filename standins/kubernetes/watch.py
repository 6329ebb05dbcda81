"""Watches of the Kubernetes API stand-in: ``?watch=1`` answered with a stream of
``{"type": ADDED|MODIFIED|DELETED|ERROR, "object": …}`` lines (each object a one-row Table when
the Accept header asks for Table, as ``kubectl get -w`` does).

From ``resourceVersion`` N: every change after N (410 Expired as an ERROR event when N is
older than the kept history); unset or "0": ADDED for each current object first. Filtered by
``fieldSelector`` and ``labelSelector``; ends after ``timeoutSeconds`` (at most
MAX_TIMEOUT) or when the stand-in stops. Time-driven changes (progress deadlines, crash
loops) happen while a watch waits, as the controllers run on their own on a real cluster."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from standins.kubernetes.select import fields_match, labels_match, parse_fields, parse_labels
from standins.kubernetes.store import ApiError, Obj, Resource, Store

MAX_TIMEOUT = 600.0  # a real server ends watches after minRequestTimeout (30 min) or so
POLL = 0.1  # seconds between looks at the clock-driven controllers


class WatchStream:
    """Built under the store lock (so a bad selector is a 400 before any byte is sent);
    iterated outside it, taking the lock for each look at the change log."""

    def __init__(
        self,
        store: Store,
        tick: Callable[[], None],
        alive: Callable[[], bool],
        res: Resource,
        ns: str | None,
        query: dict[str, str],
    ) -> None:
        self.store, self.tick, self.alive, self.res, self.ns = store, tick, alive, res, ns
        self.labels = parse_labels(query.get("labelSelector"))
        self.fields = parse_fields(query.get("fieldSelector"))
        try:
            timeout = float(query.get("timeoutSeconds") or MAX_TIMEOUT)
        except ValueError:
            raise ApiError.bad_request("timeoutSeconds: invalid value") from None
        self.deadline = time.monotonic() + min(max(timeout, 0.0), MAX_TIMEOUT)
        rv = query.get("resourceVersion") or ""
        self.render: Callable[[Obj], Obj] | None = None  # each object as a Table, if asked
        self.initial: list[Obj] = []
        self.error: Obj | None = None
        if rv in ("", "0"):
            self.since = int(store.resource_version)
            self.initial = [copy.deepcopy(o) for o in store.items(res, ns) if self._match(o)]
        elif not rv.isdigit():
            raise ApiError.bad_request(f'invalid resource version "{rv}"')
        else:
            self.since = int(rv)
            oldest = store.oldest_change()
            if self.since < oldest:
                why = f"too old resource version: {rv} ({oldest})"
                self.error = ApiError.gone(why).status()

    def _match(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if self.ns is not None and meta.get("namespace") != self.ns:
            return False
        return labels_match(self.labels, meta.get("labels")) and fields_match(self.fields, obj)

    def _line(self, kind: str, obj: Any) -> bytes:
        if self.render is not None and kind != "ERROR":
            obj = self.render(obj)
        return json.dumps({"type": kind, "object": obj}).encode() + b"\n"

    def __iter__(self) -> Iterator[bytes]:
        if self.error is not None:
            yield self._line("ERROR", self.error)
            return
        for obj in self.initial:
            yield self._line("ADDED", obj)
        while self.alive() and time.monotonic() < self.deadline:
            with self.store.lock:
                self.tick()
                out = [
                    (rv, kind, obj)
                    for rv, kind, res, obj in self.store.changes
                    if rv > self.since and res is self.res and self._match(obj)
                ]
                self.since = int(self.store.resource_version)
                if not out:
                    self.store.changed.wait(POLL)
            for _rv, kind, obj in out:
                yield self._line(kind, obj)
