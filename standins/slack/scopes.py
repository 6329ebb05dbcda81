"""OAuth scopes: which bot scopes each Web API method needs, and the app's granted set.

The granted set is read from the app manifest (``bot/slack_manifest.yaml``, as a data file) so
the stand-in refuses exactly what a workspace that installed that manifest would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from standins.slack.params import SlackError, _id_list

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "slack_manifest.yaml"

# Bot-token scopes from each method's "Required scopes" in Slack's reference. A tuple lists
# alternatives by conversation kind (public, private, im); the kind decides which is needed.
_CONVERSATION_WRITE = ("channels:manage", "groups:write", "im:write")
_CONVERSATION_READ = ("channels:read", "groups:read", "im:read")
_CONVERSATION_HISTORY = ("channels:history", "groups:history", "im:history")
METHOD_SCOPES: dict[str, tuple[str, ...] | str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "conversations.create": _CONVERSATION_WRITE,
    "conversations.rename": _CONVERSATION_WRITE,
    "conversations.setTopic": _CONVERSATION_WRITE,
    "conversations.setPurpose": _CONVERSATION_WRITE,
    "conversations.invite": _CONVERSATION_WRITE,
    "conversations.archive": _CONVERSATION_WRITE,
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "conversations.info": _CONVERSATION_READ,
    "conversations.list": _CONVERSATION_READ,
    "conversations.members": _CONVERSATION_READ,
    "conversations.history": _CONVERSATION_HISTORY,
    "conversations.replies": _CONVERSATION_HISTORY,
    "pins.add": "pins:write",
    "pins.remove": "pins:write",
    "pins.list": "pins:read",
    "reactions.add": "reactions:write",
    "reactions.get": "reactions:read",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.users.list": "usergroups:read",
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
_KIND = {"public_channel": 0, "private_channel": 1, "im": 2}


def manifest_bot_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The ``oauth_config.scopes.bot`` list of an app manifest."""
    data: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return frozenset(str(s) for s in scopes)


class ScopeCheck:
    """Answers ``missing_scope`` the way Slack does: the scope needed, and the scopes granted."""

    def __init__(self, granted: Iterable[str]) -> None:
        self.granted = frozenset(granted)

    def require(self, method: str, kinds: Iterable[str] = ("public_channel",)) -> None:
        spec = METHOD_SCOPES.get(method)
        if spec is None:
            return
        options = (spec,) if isinstance(spec, str) else spec
        for kind in kinds:
            needed = options[min(_KIND.get(kind, 0), len(options) - 1)]
            if needed not in self.granted:
                raise SlackError(
                    "missing_scope", needed=needed, provided=",".join(sorted(self.granted))
                )


def conversation_kinds(state: Any, method: str, params: dict[str, Any]) -> list[str]:
    """Which conversation kinds a call touches, to pick among a method's alternative scopes."""
    if method == "conversations.create":
        private = str(params.get("is_private", "")).lower() in ("1", "true")
        return ["private_channel" if private else "public_channel"]
    if method == "conversations.list":
        return _id_list(params.get("types") or "public_channel")
    ch = state._channels.get(str(params.get("channel") or ""))
    if ch is None:
        return ["public_channel"]  # unknown: the method answers channel_not_found itself
    return ["im" if ch["is_im"] else "private_channel" if ch["is_private"] else "public_channel"]


def _every_scope() -> frozenset[str]:
    out: set[str] = set()
    for spec in METHOD_SCOPES.values():
        out.update((spec,) if isinstance(spec, str) else spec or ())
    return frozenset(out)


EVERY_SCOPE = _every_scope()  # for tests of the stand-in itself, not of the app's manifest
