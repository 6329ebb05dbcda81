"""Block Kit validation as Slack's Web API applies it to messages and views.

Each problem is reported the way Slack words it, ``<what> [json-pointer:<where>]``; a message
answers ``invalid_blocks`` and a view ``invalid_arguments``, both with the problems in
``response_metadata.messages`` prefixed ``[ERROR]``. Limits are from Slack's Block Kit reference.
"""

from __future__ import annotations

import json
from typing import Any

from standins.slack.params import SlackError

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_BLOCKS_CHARS = 13_200  # msg_blocks_too_long: Slack publishes no number; ~13.2k observed
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ID_LENGTH = 255  # action_id, block_id
URL_LENGTH = 3000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTIONS = 100
INPUT_LABEL = 2000
INPUT_HINT = 2000
PLACEHOLDER = 150
VIEW_TEXT = 24  # modal title, submit, close
PRIVATE_METADATA = 3000
CALLBACK_ID = 255

_TEXT_TYPES = ("plain_text", "mrkdwn")
_BLOCK_TYPES = {
    "section",
    "header",
    "context",
    "actions",
    "divider",
    "image",
    "input",
    "rich_text",
    "markdown",
    "file",
    "video",
}
_SELECTS = {
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}
_INPUT_ELEMENTS = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "file_input",
    "rich_text_input",
}
_WITH_OPTIONS = {"static_select", "multi_static_select", "overflow", "checkboxes", "radio_buttons"}
_ACTION_ELEMENTS = {"button", "overflow", "image", *_SELECTS, *_INPUT_ELEMENTS} - {"file_input"}


class _Checker:
    """Collects problems over one surface (block_ids are unique across it)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.block_ids: set[str] = set()

    def fail(self, what: str, where: str) -> None:
        self.problems.append(f"{what} [json-pointer:{where}]")

    def text(
        self,
        obj: Any,
        where: str,
        limit: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.fail("missing required field: text", where.rsplit("/", 1)[0] or "/")
            return
        if not isinstance(obj, dict):
            self.fail("must be an object", where)
            return
        kind = obj.get("type")
        if kind not in (("plain_text",) if plain_only else _TEXT_TYPES):
            self.fail("must be a valid enum value", f"{where}/type")
        self.length(obj.get("text"), f"{where}/text", limit, minimum=1)

    def length(self, value: Any, where: str, limit: int, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.fail("must be a string", where)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", where)
        elif len(value) < minimum:
            self.fail(f"must be more than {minimum - 1} characters", where)

    def items(self, value: Any, where: str, limit: int, minimum: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must be an array", where)
            return []
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", where)
        elif len(value) < minimum:
            self.fail(f"must provide at least {minimum} items", where)
        return value

    # ------------------------------------------------------------------------- blocks
    def blocks(self, blocks: list[Any], where: str, limit: int) -> None:
        self.items(blocks, where, limit, minimum=0)
        for i, block in enumerate(blocks):
            self.block(block, f"{where}/{i}")

    def block(self, block: Any, where: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail("missing required field: type", where)
            return
        kind = block["type"]
        if kind not in _BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", f"{where}/type")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.length(block_id, f"{where}/block_id", ID_LENGTH, minimum=1)
            if block_id in self.block_ids:
                self.fail(f'`block_id` "{block_id}" already exists', f"{where}/block_id")
            self.block_ids.add(str(block_id))
        # An action_id is unique "among all other action_ids in the containing block" (the
        # element reference); state.values keys by block_id first, so blocks may share one.
        getattr(self, "_" + kind, lambda *a: None)(block, where, set())

    def _section(self, b: dict, where: str, ids: set[str]) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.fail("must provide either text or fields", where)
        if b.get("text") is not None:
            self.text(b["text"], f"{where}/text", SECTION_TEXT)
        if b.get("fields") is not None:
            for j, f in enumerate(self.items(b["fields"], f"{where}/fields", FIELDS)):
                self.text(f, f"{where}/fields/{j}", FIELD_TEXT)
        if b.get("accessory") is not None:
            self.element(b["accessory"], f"{where}/accessory", ids, _ACTION_ELEMENTS)

    def _header(self, b: dict, where: str, ids: set[str]) -> None:
        self.text(b.get("text"), f"{where}/text", HEADER_TEXT, plain_only=True)

    def _context(self, b: dict, where: str, ids: set[str]) -> None:
        elements = self.items(b.get("elements"), f"{where}/elements", CONTEXT_ELEMENTS)
        for j, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") == "image":
                self.image(el, f"{where}/elements/{j}")
            else:
                self.text(el, f"{where}/elements/{j}", SECTION_TEXT)

    def _actions(self, b: dict, where: str, ids: set[str]) -> None:
        elements = self.items(b.get("elements"), f"{where}/elements", ACTIONS_ELEMENTS)
        for j, el in enumerate(elements):
            self.element(el, f"{where}/elements/{j}", ids, _ACTION_ELEMENTS - {"image"})

    def _image(self, b: dict, where: str, ids: set[str]) -> None:
        self.image(b, where)
        if b.get("title") is not None:
            self.text(b["title"], f"{where}/title", 2000, plain_only=True)

    def _input(self, b: dict, where: str, ids: set[str]) -> None:
        self.text(b.get("label"), f"{where}/label", INPUT_LABEL, plain_only=True)
        if b.get("hint") is not None:
            self.text(b["hint"], f"{where}/hint", INPUT_HINT, plain_only=True)
        if b.get("element") is None:
            self.fail("missing required field: element", where)
        else:
            self.element(b["element"], f"{where}/element", ids, _INPUT_ELEMENTS | _SELECTS)

    def image(self, b: dict, where: str) -> None:
        if b.get("image_url") is None and b.get("slack_file") is None:
            self.fail("missing required field: image_url", where)
        elif b.get("image_url") is not None:
            self.length(b["image_url"], f"{where}/image_url", URL_LENGTH, minimum=1)
        self.length(b.get("alt_text"), f"{where}/alt_text", 2000, minimum=1)

    # ----------------------------------------------------------------------- elements
    def element(self, el: Any, where: str, ids: set[str], allowed: set[str]) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            self.fail("missing required field: type", where)
            return
        kind = el["type"]
        if kind not in allowed:
            self.fail(f"unsupported type: {kind}", f"{where}/type")
            return
        aid = el.get("action_id")
        if aid is not None:
            self.length(aid, f"{where}/action_id", ID_LENGTH, minimum=1)
            if aid in ids:
                self.fail(f'`action_id` "{aid}" already exists', f"{where}/action_id")
            ids.add(str(aid))
        if kind == "button":
            self.text(el.get("text"), f"{where}/text", BUTTON_TEXT, plain_only=True)
            if el.get("value") is not None:
                self.length(el["value"], f"{where}/value", BUTTON_VALUE)
            if el.get("url") is not None:
                self.length(el["url"], f"{where}/url", URL_LENGTH, minimum=1)
            if el.get("style") not in (None, "primary", "danger"):
                self.fail("must be a valid enum value", f"{where}/style")
        elif kind == "image":
            self.image(el, where)
        if el.get("placeholder") is not None:
            self.text(el["placeholder"], f"{where}/placeholder", PLACEHOLDER, plain_only=True)
        plain_options = kind not in ("checkboxes", "radio_buttons")
        if el.get("options") is not None:
            for j, opt in enumerate(self.items(el["options"], f"{where}/options", OPTIONS)):
                self.option(opt, f"{where}/options/{j}", plain_options)
        for j, group in enumerate(el.get("option_groups") or []):
            for k, opt in enumerate(group.get("options") or []):
                self.option(opt, f"{where}/option_groups/{j}/options/{k}", True)
        if el.get("initial_option") is not None:
            self.option(el["initial_option"], f"{where}/initial_option", plain_options)
        needs_options = kind in _WITH_OPTIONS and el.get("option_groups") is None
        if needs_options and el.get("options") is None:
            self.fail("missing required field: options", where)

    def option(self, opt: Any, where: str, plain_only: bool) -> None:
        if not isinstance(opt, dict):
            self.fail("must be an object", where)
            return
        self.text(opt.get("text"), f"{where}/text", OPTION_TEXT, plain_only=plain_only)
        self.length(opt.get("value"), f"{where}/value", OPTION_VALUE, minimum=1)
        if opt.get("description") is not None:
            self.text(opt["description"], f"{where}/description", OPTION_TEXT, plain_only)

    def raise_if_any(self, error: str) -> None:
        if self.problems:
            meta = {"messages": [f"[ERROR] {p}" for p in self.problems]}
            raise SlackError(error, errors=list(self.problems), response_metadata=meta)


def _decode(raw: Any, error: str) -> Any:
    if isinstance(raw, str | bytes):
        try:
            return json.loads(raw)
        except ValueError:
            raise SlackError(error) from None
    return raw


def _text_chars(node: Any) -> int:
    """Characters of text a surface carries (every ``text`` string, nested)."""
    if isinstance(node, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else _text_chars(v)
            for k, v in node.items()
        )
    if isinstance(node, list):
        return sum(_text_chars(v) for v in node)
    return 0


def message_blocks(raw: Any) -> list[dict[str, Any]]:
    """The ``blocks`` of chat.postMessage / chat.update / chat.postEphemeral / a response_url."""
    blocks = _decode(raw, "invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    check = _Checker()
    check.blocks(blocks, "/blocks", MESSAGE_BLOCKS)
    check.raise_if_any("invalid_blocks")
    if _text_chars(blocks) > MESSAGE_BLOCKS_CHARS:
        raise SlackError("msg_blocks_too_long")
    return blocks


def view(raw: Any) -> dict[str, Any]:
    """The ``view`` of views.open / views.push / views.update."""
    v = _decode(raw, "invalid_arguments")
    if not isinstance(v, dict):
        raise SlackError("invalid_arguments")
    check = _Checker()
    if v.get("type") not in ("modal", "home"):
        check.fail("must be a valid enum value", "/view/type")
    if v.get("type") == "modal":
        if v.get("title") is None:
            check.fail("missing required field: title", "/view")
        for key in ("title", "submit", "close"):
            if v.get(key) is not None:
                check.text(v[key], f"/view/{key}", VIEW_TEXT, plain_only=True)
        blocks = v.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and v.get("submit") is None:
            check.fail("missing required field: submit", "/view")
    if v.get("blocks") is None:
        check.fail("missing required field: blocks", "/view")
    else:
        check.blocks(v["blocks"], "/view/blocks", VIEW_BLOCKS)
    if v.get("private_metadata") is not None:
        check.length(v["private_metadata"], "/view/private_metadata", PRIVATE_METADATA)
    if v.get("callback_id") is not None:
        check.length(v["callback_id"], "/view/callback_id", CALLBACK_ID)
    check.raise_if_any("invalid_arguments")
    return v
