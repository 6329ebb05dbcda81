// The web sandbox's only script: ask the server every ~500 ms whether the channel changed and, if
// so, swap in the server-rendered (autoescaped) channel and sidebar. Without it the page still
// works; every form posts and the page reloads.
(function () {
  "use strict";
  var body = document.body;
  var channel = body.getAttribute("data-channel");
  var version = body.getAttribute("data-version");
  var live = document.getElementById("live");
  var nav = document.getElementById("nav-live");

  function atBottom() {
    return live.scrollHeight - live.scrollTop - live.clientHeight < 40;
  }
  function toBottom() {
    live.scrollTop = live.scrollHeight;
  }
  function editingForm() {
    var el = document.activeElement;
    return el && el.closest && el.closest("#modal") !== null;
  }
  function focusModal() {
    var first = document.querySelector("#modal input:not([type=hidden]), #modal textarea, #modal select");
    if (first) { first.focus(); }
  }

  function tick() {
    var url = "/live?c=" + encodeURIComponent(channel) + "&v=" + encodeURIComponent(version);
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.go) { window.location.assign(data.go); return; }
        if (data && data.main !== undefined && !editingForm()) {
          var follow = atBottom();
          var hadModal = document.getElementById("modal") !== null;
          live.innerHTML = data.main;
          nav.innerHTML = data.nav;
          version = data.version;
          body.setAttribute("data-version", version);
          if (follow) { toBottom(); }
          if (!hadModal) { focusModal(); }
        }
        window.setTimeout(tick, 500);
      })
      .catch(function () { window.setTimeout(tick, 2000); });
  }

  // An open form keeps the keyboard: Escape closes it, Tab cycles through its fields.
  document.addEventListener("keydown", function (e) {
    var modal = document.getElementById("modal");
    if (!modal) { return; }
    if (e.key === "Escape") {
      var close = modal.querySelector("button[formaction]");
      if (close) { close.click(); }
    } else if (e.key === "Tab") {
      var stops = modal.querySelectorAll("input:not([type=hidden]), textarea, select, button");
      var first = stops[0], last = stops[stops.length - 1];
      if (!modal.contains(document.activeElement)) {
        e.preventDefault(); first.focus();
      } else if (e.shiftKey && document.activeElement === first) {
        e.preventDefault(); last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault(); first.focus();
      }
    }
  });
  toBottom();
  if (document.getElementById("modal")) { focusModal(); }
  window.setTimeout(tick, 500);
})();
