# ruff: noqa: E501  (markup and CSS read better unwrapped)
"""The web sandbox's one page (a Jinja2 template, autoescaped) and its stylesheet."""

CSS = """
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d1c1d; display: flex; }
nav { width: 15rem; min-height: 100vh; background: #3f0e40; color: #ffffff; padding: .8rem; }
nav a { color: #ffffff; display: block; padding: .15rem .3rem; text-decoration: none; }
nav a[aria-current] { background: #1164a3; border-radius: 4px; }
nav h2 { font-size: .85rem; text-transform: uppercase; margin: 1rem 0 .3rem; }
nav select, nav button { font: inherit; }
main { flex: 1; padding: .8rem 1.2rem; max-width: 60rem; }
.msg { padding: .4rem 0; border-bottom: 1px solid #e8e8e8; }
.who { font-weight: 700; }
.app { font-size: .7rem; background: #e8e8e8; color: #1d1c1d; padding: 0 .3rem; border-radius: 3px; }
.ephemeral { background: #f4ede4; padding: .4rem; border-radius: 4px; margin: .4rem 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: .2rem 1rem; }
.context { color: #5c5b5c; font-size: .85rem; }
pre { background: #f8f8f8; border: 1px solid #dddddd; padding: .4rem; white-space: pre-wrap; }
form.inline { display: inline; }
button { font: inherit; border: 1px solid #5c5b5c; background: #ffffff; color: #1d1c1d;
  border-radius: 4px; padding: .1rem .6rem; cursor: pointer; }
button.primary { background: #007a5a; color: #ffffff; border-color: #007a5a; }
button.danger { background: #ffffff; color: #a4161a; border-color: #a4161a; }
.modal { border: 2px solid #1164a3; padding: .6rem; border-radius: 6px; margin: .6rem 0; }
.modal label { display: block; font-weight: 600; margin-top: .4rem; }
.composer input[type=text] { width: 70%; font: inherit; padding: .3rem; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible {
  outline: 3px solid #1264a3; outline-offset: 2px; }
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>#{{ channel_name }} · Warroom sandbox</title>
<link rel="stylesheet" href="/sandbox.css"></head>
<body>
<nav aria-label="Channels">
  <strong>Warroom Sandbox</strong>
  <form method="post" action="/act/as">
    <input type="hidden" name="token" value="{{ token }}">
    <input type="hidden" name="channel" value="{{ channel }}">
    <label for="as">You are</label>
    <select id="as" name="user">{% for uid, uname in users %}
      <option value="{{ uid }}" {% if uid == me %}selected{% endif %}>{{ uname }}</option>{% endfor %}
    </select>
    <button type="submit">Switch</button>
  </form>
  <h2>Channels</h2>
  {% for cid, cname in channels %}
  <a href="/?c={{ cid }}" {% if cid == channel %}aria-current="page"{% endif %}># {{ cname }}</a>
  {% endfor %}
  {% if files %}<h2>Files</h2>{% for f in files %}<a href="/files/{{ f.id }}">{{ f.name }}</a>{% endfor %}{% endif %}
</nav>
<main>
<h1># {{ channel_name }}</h1>
{% macro button(b, m) %}
<form method="post" action="/act/press" class="inline">
  <input type="hidden" name="token" value="{{ token }}">
  <input type="hidden" name="channel" value="{{ channel }}">
  <input type="hidden" name="ts" value="{{ m.ts }}">
  <input type="hidden" name="action_id" value="{{ b.action_id }}">
  <input type="hidden" name="value" value="{{ b.value or '' }}">
  <button type="submit" class="{{ b.style or '' }}">{{ b.text.text }}</button>
</form>
{% endmacro %}
{% macro body(m) %}
  {% if not m.blocks %}<div>{{ m.text|rich }}</div>{% endif %}
  {% for b in m.blocks %}
    {% if b.type == "header" %}<h3>{{ b.text.text|rich }}</h3>
    {% elif b.type == "section" %}
      {% if b.text %}<div>{{ b.text.text|rich }}</div>{% endif %}
      {% if b.fields %}<div class="fields">{% for f in b.fields %}<div>{{ f.text|rich }}</div>{% endfor %}</div>{% endif %}
      {% if b.accessory and b.accessory.type == "button" %}{{ button(b.accessory, m) }}{% endif %}
    {% elif b.type == "context" %}<div class="context">{% for e in b.elements %}{{ (e.text or "")|rich }} {% endfor %}</div>
    {% elif b.type == "actions" %}<div>{% for e in b.elements if e.type == "button" %}{{ button(e, m) }}{% endfor %}</div>
    {% elif b.type == "divider" %}<hr>
    {% endif %}
  {% endfor %}
{% endmacro %}
<ol class="messages" aria-label="Messages">
{% for m in messages %}
<li class="msg" id="m{{ loop.index }}">
  <span class="who">{{ m.who }}</span>{% if m.bot %} <span class="app">APP</span>{% endif %}
  {% if m.pinned %}<span title="Pinned">📌</span>{% endif %}
  {{ body(m) }}
  {% for emoji, n in m.reactions %}<span class="reaction">{{ emoji }} {{ n }}</span>{% endfor %}
  {% if m.ts %}
  <form method="post" action="/act/react" class="inline">
    <input type="hidden" name="token" value="{{ token }}">
    <input type="hidden" name="channel" value="{{ channel }}">
    <input type="hidden" name="ts" value="{{ m.ts }}">
    <button type="submit" name="emoji" value="pushpin" aria-label="React with pushpin to message {{ loop.index }}">📌</button>
  </form>
  {% endif %}
</li>
{% endfor %}
</ol>
{% for e in ephemerals %}<div class="ephemeral" role="status"><em>Only visible to you</em>{{ body(e) }}</div>{% endfor %}
{% if view %}
<form method="post" action="/act/submit" class="modal" aria-label="{{ view.title }}">
  <h2>{{ view.title }}</h2>
  <input type="hidden" name="token" value="{{ token }}">
  <input type="hidden" name="channel" value="{{ channel }}">
  {% for i in view.inputs %}
  <label for="v-{{ i.id }}">{{ i.label }}{% if i.optional %} (optional){% endif %}</label>
  {% if i.options %}<select id="v-{{ i.id }}" name="{{ i.id }}">{% for o in i.options %}<option {% if o == i.value %}selected{% endif %}>{{ o }}</option>{% endfor %}</select>
  {% elif i.multiline %}<textarea id="v-{{ i.id }}" name="{{ i.id }}">{{ i.value }}</textarea>
  {% else %}<input id="v-{{ i.id }}" name="{{ i.id }}" value="{{ i.value }}">{% endif %}
  {% endfor %}
  <p><button type="submit" class="primary">Submit</button></p>
</form>
{% endif %}
<form method="post" action="/act/say" class="composer">
  <input type="hidden" name="token" value="{{ token }}">
  <input type="hidden" name="channel" value="{{ channel }}">
  <label for="text">Message #{{ channel_name }} (or /incident …)</label><br>
  <input id="text" name="text" type="text" autocomplete="off" autofocus>
  <button type="submit">Send</button>
</form>
<details><summary>Sandbox transcript</summary><pre>{% for line in log %}{{ line }}
{% endfor %}</pre></details>
</main>
</body></html>
"""
