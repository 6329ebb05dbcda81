"""Socket Mode: Bolt's handler, made to acknowledge every envelope Slack sends and to do each
one once.

Bolt acknowledges only what a listener handled: an event nobody listens to, or a payload of an
unexpected shape, got no ack, so Slack delivered it again and again. Here every envelope with an
id is acknowledged (a reply when there is one, empty otherwise), an envelope seen before is
acknowledged and not run again, and a listener's failure is logged, never raised into the
client's threads.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.errors import DatabaseUnreachable
from bot.runtime import Runtime
from bot.slack import door

log = logging.getLogger(__name__)

# slack_sdk's built-in client reads a frame by recursing once per chunk read: with its default
# 1 KiB chunks a frame above about 1 MB overflowed the stack (RecursionError), dropped the
# connection and lost the envelope. 64 KiB chunks take frames far beyond Slack's own sizes.
RECEIVE_BUFFER = 64 * 1024


class WarroomSocketModeHandler(SocketModeHandler):
    def __init__(self, app: App, app_token: str, rt: Runtime) -> None:
        super().__init__(app, app_token, receive_buffer_size=RECEIVE_BUFFER)
        self.rt = rt
        self.replays = door.ReplayGuard(rt.db, rt.once, rt.now)

    def handle(self, client: Any, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        envelope_id = req.envelope_id
        if not isinstance(envelope_id, str) or not envelope_id:
            log.warning("a Socket Mode envelope without an id (type %r): ignored", req.type)
            return
        try:
            first = self.replays.first_time(f"socket:{envelope_id}"[:80])
        except DatabaseUnreachable as e:
            if req.type == "events_api":
                return  # no ack: Slack delivers the event again, when the database may be back
            reply = {"response_type": "ephemeral", "text": f":warning: {e}"}
            client.send_socket_mode_response(SocketModeResponse(envelope_id, reply))
            return
        if not first:
            log.info("envelope %s delivered again: acknowledged, not run twice", envelope_id)
            client.send_socket_mode_response(SocketModeResponse(envelope_id))
            return
        try:
            resp = run_bolt_app(self.app, req)
        except Exception:
            log.exception("a Socket Mode envelope of type %r failed", req.type)
            resp = BoltResponse(status=200, body="")
        if resp.status != 200:
            # No listener for it (404), or Bolt refused its shape: acknowledged all the same,
            # or Slack would keep delivering what this app cannot use.
            log.info("envelope of type %r not handled (%s): acknowledged", req.type, resp.status)
            resp = BoltResponse(status=200, body="")
        send_response(client, req, resp, started)
