"""The app manifest passes Slack's published manifest rules (slackapi/manifest-schema, v1) and
grants the scopes the bot's calls and event subscriptions need, and no others."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from standins.slack.api import SlackStandIn
from standins.slack.scopes import MANIFEST, manifest_bot_scopes

URL = re.compile(r"^https?://")
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# Bot-token scopes Slack defines (its scopes reference); a misspelt scope fails installation.
BOT_SCOPES = {
    "app_mentions:read", "assistant:write", "bookmarks:read", "bookmarks:write", "calls:read",
    "calls:write", "canvases:read", "canvases:write", "channels:history", "channels:join",
    "channels:manage", "channels:read", "channels:write.invites", "channels:write.topic",
    "chat:write", "chat:write.customize", "chat:write.public", "commands",
    "conversations.connect:manage", "conversations.connect:read", "conversations.connect:write",
    "dnd:read", "emoji:read",
    "files:read", "files:write", "groups:history", "groups:read", "groups:write",
    "groups:write.invites", "groups:write.topic", "im:history", "im:read", "im:write",
    "im:write.topic", "incoming-webhook", "links.embed:write", "links:read", "links:write",
    "metadata.message:read", "mpim:history", "mpim:read", "mpim:write", "mpim:write.topic",
    "pins:read", "pins:write", "reactions:read", "reactions:write", "reminders:read",
    "reminders:write", "remote_files:read", "remote_files:share", "remote_files:write",
    "team.billing:read", "team.preferences:read", "team:read", "usergroups:read",
    "usergroups:write", "users.profile:read", "users:read", "users:read.email", "users:write",
    "workflow.steps:execute",
}  # fmt: skip

# Events the bot subscribes to, with the scope each needs (Slack's events reference).
EVENT_SCOPES = {
    "pin_added": {"pins:read"},
    "pin_removed": {"pins:read"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "channel_archive": {"channels:read"},
    "app_mention": {"app_mentions:read"},
}

# What the bot calls (bot/slack/chat.py) and so must hold; the manifest grants exactly these.
NEEDED = {
    "commands": "slash commands and shortcuts",
    "chat:write": "chat.postMessage, chat.update, chat.postEphemeral",
    "chat:write.public": "posting to public channels before joining them",
    "channels:manage": "conversations.create, setTopic, setPurpose, invite, archive",
    "channels:join": "conversations.join",
    "channels:read": "conversations.list, member_joined_channel",
    "channels:history": "conversations.history, message.channels",
    "groups:read": "conversations.list of private channels, member_joined_channel",
    "groups:write": "conversations.create is_private (private incidents' war rooms), invite",
    "groups:history": "conversations.history in private channels, message.groups",
    "pins:read": "pin_added",
    "pins:write": "pins.add",
    "reactions:read": "reaction_added",
    "users:read": "users.info",
    "usergroups:read": "usergroups.users.list (approvers by user group)",
    "files:write": "files.getUploadURLExternal, files.completeUploadExternal",
}


def problems(m: dict[str, Any]) -> list[str]:
    """Every way the manifest breaks Slack's rules; empty when it would be accepted."""
    out: list[str] = []

    def text(where: str, value: Any, most: int, least: int = 1) -> None:
        if not isinstance(value, str) or not least <= len(value) <= most:
            size = len(value) if isinstance(value, str) else type(value).__name__
            out.append(f"{where}: {least}-{most} characters, got {size}")

    def url(where: str, value: Any, https: bool = True) -> None:
        if value is not None and not (isinstance(value, str) and URL.match(value)):
            out.append(f"{where}: not a URL")
        elif value is not None and https and not value.startswith("https://"):
            out.append(f"{where}: Slack only calls https:// request URLs")

    info = m.get("display_information")
    if not isinstance(info, dict):
        return ["display_information: required"]
    text("display_information.name", info.get("name"), 35)
    if "description" in info:
        text("display_information.description", info["description"], 140)
    if "long_description" in info:
        text("display_information.long_description", info["long_description"], 4000, 175)
    color = info.get("background_color")
    if color is not None and not HEX_COLOR.match(str(color)):
        out.append(f"display_information.background_color: not a hex colour: {color!r}")

    features = m.get("features") or {}
    bot = features.get("bot_user")
    if bot is not None:
        text("features.bot_user.display_name", bot.get("display_name"), 80)
        # Slack's form: lowercase letters, digits, periods, hyphens and underscores.
        if not re.fullmatch(r"[a-z0-9._-]+", str(bot.get("display_name", ""))):
            out.append("features.bot_user.display_name: a-z, 0-9, '.', '-', '_' only")
    commands = features.get("slash_commands") or []
    if len(commands) > 50:
        out.append("features.slash_commands: at most 50")
    for i, c in enumerate(commands):
        where = f"features.slash_commands[{i}]"
        cmd = c.get("command")
        text(f"{where}.command", cmd, 32, 2)
        if not str(cmd).startswith("/"):
            out.append(f"{where}.command: must start with '/'")
        text(f"{where}.description", c.get("description"), 2000)
        if "usage_hint" in c:
            text(f"{where}.usage_hint", c["usage_hint"], 1000)
        url(f"{where}.url", c.get("url"))
    shortcuts = features.get("shortcuts") or []
    if len(shortcuts) > 10:
        out.append("features.shortcuts: at most 10")
    for i, s in enumerate(shortcuts):
        where = f"features.shortcuts[{i}]"
        text(f"{where}.name", s.get("name"), 24)
        text(f"{where}.callback_id", s.get("callback_id"), 255)
        text(f"{where}.description", s.get("description"), 150)
        if s.get("type") not in ("global", "message"):
            out.append(f"{where}.type: global or message")
    callback_ids = [s.get("callback_id") for s in shortcuts]
    if len(set(callback_ids)) != len(callback_ids):
        out.append("features.shortcuts: callback_id used twice")

    scopes = ((m.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    for scope in scopes:
        if scope not in BOT_SCOPES:
            out.append(f"oauth_config.scopes.bot: no such bot scope {scope!r}")
    if len(set(scopes)) != len(scopes):
        out.append("oauth_config.scopes.bot: a scope is listed twice")

    settings = m.get("settings") or {}
    socket_mode = bool(settings.get("socket_mode_enabled"))
    events = settings.get("event_subscriptions") or {}
    for event in events.get("bot_events") or []:
        needed = EVENT_SCOPES.get(event)
        if needed is None:
            out.append(f"settings.event_subscriptions.bot_events: unknown event {event!r}")
        elif not needed & set(scopes):
            out.append(f"bot event {event} needs one of {sorted(needed)}")
    interactivity = settings.get("interactivity") or {}
    if interactivity and "is_enabled" not in interactivity:
        out.append("settings.interactivity.is_enabled: required")
    if shortcuts and not interactivity.get("is_enabled"):
        out.append("shortcuts need settings.interactivity.is_enabled")
    for where, value in (
        ("settings.event_subscriptions.request_url", events.get("request_url")),
        ("settings.interactivity.request_url", interactivity.get("request_url")),
    ):
        if value is None and not socket_mode and where.endswith("request_url"):
            out.append(f"{where}: required without Socket Mode")
        url(where, value)
    if features.get("slash_commands") and "commands" not in scopes:
        out.append("slash commands need the commands scope")
    return out


def load(path: Path = MANIFEST) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def test_manifest_passes_slacks_rules() -> None:
    assert problems(load()) == []


def test_manifest_grants_what_the_bot_uses_and_nothing_more() -> None:
    assert set(load()["oauth_config"]["scopes"]["bot"]) == set(NEEDED)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m["features"]["shortcuts"][1].update(name="x" * 25), "shortcuts[1].name"),
        (lambda m: m["display_information"].update(name="x" * 36), "display_information.name"),
        (lambda m: m["display_information"].update(background_color="red"), "background_color"),
        (lambda m: m["display_information"].update(long_description="short"), "long_desc"),
        (lambda m: m["features"]["slash_commands"][0].update(command="incident"), "'/'"),
        (lambda m: m["features"]["slash_commands"][0].update(url="http://x.example"), "https"),
        (lambda m: m["features"]["shortcuts"][0].update(type="channel"), "global or message"),
        (lambda m: m["features"]["bot_user"].update(display_name="War Room"), "display_name"),
        (lambda m: m["oauth_config"]["scopes"]["bot"].append("chat:writes"), "no such bot"),
        (lambda m: m["oauth_config"]["scopes"]["bot"].remove("pins:read"), "pin_added needs"),
        (lambda m: m["settings"]["event_subscriptions"]["bot_events"].append("pin_add"), "unknown"),
    ],
)
def test_the_rules_catch_what_slack_refuses(change: Any, expected: str) -> None:
    m = load()
    change(m)
    assert any(expected in p for p in problems(m)), problems(m)


def test_a_manifest_without_usergroups_read_fails_usergroups_users_list(tmp_path: Path) -> None:
    # What a workspace that installed the old manifest answered to approvals by user group.
    m = load()
    m["oauth_config"]["scopes"]["bot"].remove("usergroups:read")
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(m))
    with SlackStandIn(scopes=manifest_bot_scopes(path)) as slack:
        slack.add_usergroup("S0ONCALL", ["U0ALICE"])
        client = WebClient(token=slack.token, base_url=slack.api_url)
        with pytest.raises(SlackApiError) as info:
            client.usergroups_users_list(usergroup="S0ONCALL")
        assert info.value.response["error"] == "missing_scope"
        assert info.value.response["needed"] == "usergroups:read"
        assert "usergroups:read" not in info.value.response["provided"].split(",")
    with SlackStandIn() as slack:  # the manifest as shipped
        slack.add_usergroup("S0ONCALL", ["U0ALICE"])
        client = WebClient(token=slack.token, base_url=slack.api_url)
        assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U0ALICE"]
