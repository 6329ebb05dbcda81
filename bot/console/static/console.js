// The live timeline: server-sent events appended as text (never as HTML).
"use strict";
(function () {
  const list = document.getElementById("timeline");
  if (!list || list.dataset.live !== "1" || !window.EventSource) return;
  const id = list.dataset.incident;
  const source = new EventSource("/incidents/" + id + "/live?after=" + list.dataset.after);
  const state = document.getElementById("live-state");

  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  source.addEventListener("entry", function (msg) {
    const e = JSON.parse(msg.data);
    if (list.querySelector('li[data-id="' + e.id + '"]')) return;
    const li = document.createElement("li");
    li.dataset.id = String(e.id);
    li.className = "fresh";
    const t = document.createElement("time");
    t.textContent = e.at;
    li.append(t, " ", span("kind", e.kind), " ", span("actor", e.actor === "—" ? "" : e.actor),
      " ", span("text", e.text));
    list.append(li);
    if (state) state.textContent = "Live: new entry (" + e.kind + ") at " + e.at + ".";
  });
  source.addEventListener("error", function () {
    if (state) state.textContent = "Live updates paused; reconnecting…";
  });
})();
