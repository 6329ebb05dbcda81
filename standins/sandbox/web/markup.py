"""Slack's mrkdwn as HTML through an escaping renderer: every piece of text is escaped, and only
the markup this module writes itself (bold, italic, strike, code, links, mentions) is HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from markupsafe import Markup, escape

from bot.mrkdwn import unescape

# Shortcodes shown as emoji: the ones Warroom posts, and the ones people react with most.
# fmt: off
EMOJI = {
    "pushpin": "📌", "round_pushpin": "📍", "rotating_light": "🚨", "warning": "⚠️",
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "memo": "📝",
    "fire": "🔥", "hourglass_flowing_sand": "⏳", "hourglass": "⌛", "mag": "🔍",
    "bell": "🔔", "no_entry": "⛔", "no_entry_sign": "🚫",
    "arrows_counterclockwise": "🔄", "large_green_circle": "🟢",
    "large_yellow_circle": "🟡", "large_orange_circle": "🟠", "large_blue_circle": "🔵",
    "red_circle": "🔴", "white_circle": "⚪", "black_circle": "⚫",
    "information_source": "ℹ️", "rewind": "⏪", "fast_forward": "⏩",
    "speech_balloon": "💬", "clipboard": "📋", "busts_in_silhouette": "👥",
    "bust_in_silhouette": "👤", "ballot_box_with_check": "☑️", "bulb": "💡",
    "link": "🔗", "page_facing_up": "📄", "page_with_curl": "📃", "checkered_flag": "🏁",
    "rocket": "🚀", "loudspeaker": "📢", "mega": "📣", "eyes": "👀", "stopwatch": "⏱️",
    "alarm_clock": "⏰", "clock1": "🕐", "calendar": "📆", "date": "📅", "lock": "🔒",
    "unlock": "🔓", "key": "🔑", "shield": "🛡️", "wrench": "🔧", "hammer": "🔨",
    "hammer_and_wrench": "🛠️", "gear": "⚙️", "package": "📦",
    "chart_with_upwards_trend": "📈", "chart_with_downwards_trend": "📉",
    "bar_chart": "📊", "floppy_disk": "💾", "file_folder": "📁", "open_file_folder": "📂",
    "scroll": "📜", "books": "📚", "pencil": "📝", "pencil2": "✏️",
    "heavy_plus_sign": "➕", "heavy_minus_sign": "➖", "arrow_right": "➡️",
    "arrow_up": "⬆️", "arrow_down": "⬇️", "leftwards_arrow_with_hook": "↩️",
    "repeat": "🔁", "zap": "⚡", "boom": "💥", "skull": "💀", "ambulance": "🚑",
    "construction": "🚧", "traffic_light": "🚦", "sos": "🆘", "question": "❓",
    "exclamation": "❗", "heavy_exclamation_mark": "❗", "thumbsup": "👍", "+1": "👍",
    "thumbsdown": "👎", "-1": "👎", "ok_hand": "👌", "raised_hands": "🙌", "pray": "🙏",
    "tada": "🎉", "sparkles": "✨", "star": "⭐", "100": "💯", "wave": "👋",
    "thinking_face": "🤔", "slightly_smiling_face": "🙂", "smile": "😄",
    "sweat_smile": "😅", "cry": "😢", "sob": "😭", "scream": "😱", "sleeping": "😴",
    "coffee": "☕", "pager": "📟", "telephone_receiver": "📞", "email": "📧",
    "envelope": "✉️", "inbox_tray": "📥", "outbox_tray": "📤", "mailbox": "📫",
    "label": "🏷️", "bookmark": "🔖", "trophy": "🏆", "dart": "🎯", "robot_face": "🤖",
    "computer": "💻", "desktop_computer": "🖥️", "globe_with_meridians": "🌐",
    "cloud": "☁️", "fire_engine": "🚒", "stethoscope": "🩺", "microscope": "🔬",
    "test_tube": "🧪", "broom": "🧹", "recycle": "♻️", "hourglass_done": "⌛",
    "siren": "🚨",
    "arrow_forward": "▶️", "closed_lock_with_key": "🔐", "see_no_evil": "🙈",
    "white_square": "⬜", "white_large_square": "⬜", "zzz": "💤", "black_square_button": "🔲",
}
# fmt: on

_TOKEN = re.compile(r"<([^<>]+)>")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_STYLES = [
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)~(?![\w~])"), "del"),
]
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
_HOLE = re.compile(r"\x00(\d+)\x00")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)

Names = Callable[[str], str]


def emoji(name: str) -> str:
    return EMOJI.get(name, f":{name}:")


class Renderer:
    """`render(text)` turns Slack's mrkdwn into escaped HTML; ids become names."""

    def __init__(self, channel_name: Names, user_name: Names) -> None:
        self.channel_name, self.user_name = channel_name, user_name

    def render(self, text: str | None) -> Markup:
        text = text or ""
        parts, last = [], 0
        for m in _CODE_BLOCK.finditer(text):
            parts.append(self._inline(text[last : m.start()]))
            code = unescape(m.group(1)).strip("\n")
            parts.append(f'<pre class="code">{escape(code)}</pre>')
            last = m.end()
        parts.append(self._inline(text[last:]))
        return Markup("".join(parts))

    def _inline(self, text: str) -> str:
        holes: list[str] = []

        def hole(html: str) -> str:
            holes.append(html)
            return f"\x00{len(holes) - 1}\x00"

        text = text.replace("\x00", "")
        text = _CODE.sub(lambda m: hole(f"<code>{escape(unescape(m.group(1)))}</code>"), text)
        text = _TOKEN.sub(lambda m: hole(self._token(m.group(1))), text)
        html = str(escape(unescape(text)))
        for pattern, tag in _STYLES:
            html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
        html = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), html)
        html = _lines(html)
        return _HOLE.sub(lambda m: holes[int(m.group(1))], html)

    def _token(self, body: str) -> str:
        """One `<…>` of Slack's markup: a mention, a channel, a special mention or a link."""
        target, _, label = body.partition("|")
        label = unescape(label)
        if target.startswith("@"):
            name = label or self.user_name(target[1:])
            return f'<span class="mention">@{escape(name.lstrip("@"))}</span>'
        if target.startswith("#"):
            cid = target[1:]
            name = label or self.channel_name(cid)
            return f'<a class="mention" href="/?c={quote(cid)}">#{escape(name)}</a>'
        if target.startswith("!"):
            word = label or "@" + target[1:].split("^")[0]
            return f'<span class="mention">{escape(word)}</span>'
        url = unescape(target)
        if _SAFE_URL.match(url):
            return (
                f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">'
                f"{escape(label or url)}</a>"
            )
        return str(escape(unescape("<" + body + ">")))


def _lines(html: str) -> str:
    """Line breaks as <br>; lines starting with `>` as a quote, as Slack shows them."""
    parts: list[str] = []
    for line in html.split("\n"):
        quote = line.startswith("&gt;")
        if parts and not quote and not parts[-1].endswith("</blockquote>"):
            parts.append("<br>")
        parts.append(f"<blockquote>{line[4:].lstrip()}</blockquote>" if quote else line)
    return "".join(parts)
