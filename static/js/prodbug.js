// Prodbug's own behaviour on top of htmx. No inline scripts: the CSP forbids them.
(function () {
  "use strict";

  // A live update must never clobber what someone is doing: skip swapping an element
  // that holds the focus, an open menu, or a field with unsaved text, and ask the next
  // poll for a full refresh so nothing is missed once they are done.
  let stale = false;

  function busy(el) {
    if (!el || !el.contains) return false;
    if (document.activeElement && document.activeElement !== document.body &&
        el.contains(document.activeElement)) return true;
    if (el.querySelector("details[open]") || (el.matches && el.matches("details[open]"))) return true;
    for (const field of el.querySelectorAll("textarea, input[type=text], input:not([type])")) {
      if (field.value !== field.defaultValue) return true;
    }
    return false;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    if (busy(evt.detail.target)) {
      evt.detail.shouldSwap = false;
      stale = true;
    }
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.elt && evt.detail.elt.id === "poller" && stale) {
      stale = false;
      evt.detail.parameters.v = "refresh";
    }
  });

  // Errors that htmx does not swap (403, 5xx, network) are shown, never swallowed.
  function flash(text) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.hidden = true; }, 8000);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    const xhr = evt.detail.xhr;
    if (evt.detail.elt && evt.detail.elt.id === "poller") return;
    const text = (xhr.responseText || "").trim();
    flash(text && text.length < 300 && !text.startsWith("<") ? text : "Request failed (" + xhr.status + ").");
  });
  let offline = false;
  document.addEventListener("htmx:sendError", function (evt) {
    if (!offline) flash("Prodbug is unreachable; retrying…");
    offline = true;
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (offline && evt.detail.successful) {
      offline = false;
      flash("Back online.");
    }
  });

  // Ctrl/Cmd+Enter posts the note being typed.
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey) && evt.target.matches("textarea")) {
      evt.preventDefault();
      evt.target.form.requestSubmit();
    }
    if (evt.key === "Escape") {
      const open = evt.target.closest && evt.target.closest("details[open]");
      if (open) { open.open = false; open.querySelector("summary").focus(); }
    }
  });

  // Elapsed time in the session header, refreshed without a request.
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    for (const el of document.querySelectorAll("time.elapsed[data-since]")) {
      const since = Date.parse(el.dataset.since);
      const until = el.dataset.until ? Date.parse(el.dataset.until) : Date.now();
      const mins = Math.max(0, Math.floor((until - since) / 60000));
      const d = Math.floor(mins / 1440), h = Math.floor((mins % 1440) / 60), m = mins % 60;
      el.textContent = (d ? d + "d " : "") + (d || h ? h + "h " : "") + pad(m) + "m";
    }
  }
  // Countdowns of temporary switches: the server decides expiry, this only shows it.
  function countdown() {
    for (const el of document.querySelectorAll("time.countdown[data-expires]")) {
      const left = Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000);
      if (left <= 0) { el.textContent = "expiring…"; continue; }
      const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s) + " left";
      el.classList.toggle("soon", left < 120);
    }
  }
  setInterval(countdown, 1000);
  document.addEventListener("DOMContentLoaded", countdown);
  document.addEventListener("htmx:afterSettle", countdown);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 30000);
})();
