// Interactive flamegraphs: the server draws every frame (profiling/flamegraph.py), this adds
// click-to-zoom, search with a sum of the matches, and tooltips. No inline scripts (CSP): the
// frames carry data-* attributes and the function names come from a JSON data block.
(function () {
  "use strict";

  const ROW = 16;          // px per stack level, as in flamegraph.py
  const LABEL_MIN_PX = 24; // narrower frames show no text
  const SVG_NS = "http://www.w3.org/2000/svg";

  const number = new Intl.NumberFormat("en-US");
  function percent(part, whole) {
    // Two decimals for slivers under 0.1 %, so they do not read as nothing.
    return whole ? (part * 100 / whole).toFixed(part && part * 1000 < whole ? 2 : 1) : "0";
  }
  function pct(fraction) { return (fraction * 100).toFixed(4) + "%"; }

  function init(root) {
    const svg = root.querySelector("svg.fg-svg");
    const namesBlock = root.querySelector("script.fg-names");
    if (!svg || !namesBlock) return;
    const names = JSON.parse(namesBlock.textContent);
    const total = Number(root.dataset.total);
    const baseTotal = Number(root.dataset.baseTotal || 0);
    const search = root.querySelector(".fg-search");
    const matched = root.querySelector(".fg-matched");
    const reset = root.querySelector(".fg-reset");
    const zoomedNote = root.querySelector(".fg-zoomed");
    const tip = root.querySelector(".fg-tip");
    const hint = zoomedNote ? zoomedNote.textContent : "";

    const frames = [];
    const byElement = new Map();
    for (const el of svg.querySelectorAll("svg.fg-f")) {
      const frame = {
        el: el,
        name: names[Number(el.dataset.n)],
        x: Number(el.dataset.x),
        v: Number(el.dataset.v),
        self: Number(el.dataset.s),
        base: el.dataset.b === undefined ? null : Number(el.dataset.b),
        depth: Math.round(Number(el.getAttribute("y")) / ROW),
        label: el.querySelector("text"),
        fx: 0, fw: 0, // current position and width, fractions of the full width
      };
      frames.push(frame);
      byElement.set(el, frame);
    }
    if (!frames.length) return;
    let focus = frames[0];

    // Text for frames wide enough to read; created on demand when zooming widens them.
    function labels() {
      const width = svg.getBoundingClientRect().width || 1200;
      for (const f of frames) {
        if (f.el.classList.contains("fg-hide")) continue;
        const wide = f.fw * width >= LABEL_MIN_PX;
        if (wide && !f.label) {
          f.label = document.createElementNS(SVG_NS, "text");
          f.label.setAttribute("x", "3");
          f.label.setAttribute("y", "11");
          f.label.textContent = f.name;
          f.el.appendChild(f.label);
        }
        if (f.label) f.label.classList.toggle("fg-nolabel", !wide);
      }
    }

    function zoom(target) {
      focus = target;
      for (const f of frames) {
        const inside = f.depth >= target.depth && f.x >= target.x && f.x + f.v <= target.x + target.v;
        const above = f.depth < target.depth && f.x <= target.x && f.x + f.v >= target.x + target.v;
        f.el.classList.toggle("fg-hide", !inside && !above);
        f.el.classList.toggle("fg-ancestor", above);
        if (inside) {
          f.fx = (f.x - target.x) / target.v;
          f.fw = f.v / target.v;
        } else if (above) {
          f.fx = 0;
          f.fw = 1;
        } else {
          continue;
        }
        f.el.setAttribute("x", pct(f.fx));
        f.el.setAttribute("width", pct(f.fw));
      }
      labels();
      const zoomed = target !== frames[0];
      if (reset) reset.disabled = !zoomed;
      if (zoomedNote) {
        zoomedNote.textContent = zoomed
          ? "Zoomed into " + target.name + " (" + number.format(target.v) + " samples, " +
            percent(target.v, total) + " %). Click the top row or press Esc to zoom out."
          : hint;
      }
    }

    function matcher(term) {
      try {
        return new RegExp(term, "i");
      } catch (e) {
        // Not a valid expression: search for the text as typed.
        return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
      }
    }

    function find(term) {
      const re = term ? matcher(term) : null;
      const hits = names.map(function (n) { return re !== null && re.test(n); });
      const spans = [];
      for (const f of frames) {
        const hit = hits[Number(f.el.dataset.n)];
        f.el.classList.toggle("fg-match", hit);
        if (hit) spans.push([f.x, f.x + f.v]);
      }
      if (!matched) return;
      if (!re) { matched.textContent = ""; return; }
      // A match inside another match is counted once: sum the union of their spans.
      spans.sort(function (a, b) { return a[0] - b[0]; });
      let sum = 0, end = -1;
      for (const [start, stop] of spans) {
        if (stop <= end) continue;
        sum += stop - Math.max(start, end);
        end = stop;
      }
      matched.textContent = number.format(sum) + " samples, " + percent(sum, total) + " %";
    }

    function describe(f) {
      const lines = [number.format(f.v) + " samples, " + percent(f.v, total) + " % of all"];
      if (f.self) lines.push("self " + number.format(f.self) + " samples, " + percent(f.self, total) + " %");
      if (f.base !== null && baseTotal) {
        const before = f.base / baseTotal, after = f.v / total;
        const delta = (after - before) * 100;
        lines.push("before " + (before * 100).toFixed(2) + " % → after " + (after * 100).toFixed(2) +
          " % (" + (delta >= 0 ? "+" : "") + delta.toFixed(2) + " points)");
      }
      return lines;
    }

    svg.addEventListener("click", function (evt) {
      const el = evt.target.closest("svg.fg-f");
      const f = el && byElement.get(el);
      if (!f) return;
      // Clicking the frame in focus again zooms all the way out.
      zoom(f === focus ? frames[0] : f);
    });
    if (reset) reset.addEventListener("click", function () { zoom(frames[0]); });
    document.addEventListener("keydown", function (evt) {
      if (evt.key === "Escape" && focus !== frames[0] && document.activeElement !== search) zoom(frames[0]);
    });

    let pending = null;
    if (search) {
      search.addEventListener("input", function () {
        clearTimeout(pending);
        pending = setTimeout(function () { find(search.value.trim()); }, 120);
      });
      search.addEventListener("keydown", function (evt) {
        if (evt.key === "Enter") { clearTimeout(pending); find(search.value.trim()); }
        if (evt.key === "Escape") { search.value = ""; find(""); }
      });
    }

    if (tip) {
      svg.addEventListener("mousemove", function (evt) {
        const el = evt.target.closest("svg.fg-f");
        const f = el && byElement.get(el);
        if (!f) { tip.hidden = true; return; }
        tip.replaceChildren();
        const title = document.createElement("strong");
        title.textContent = f.name;
        tip.appendChild(title);
        for (const line of describe(f)) {
          const row = document.createElement("div");
          row.textContent = line;
          tip.appendChild(row);
        }
        tip.hidden = false;
        // CSSOM, not a style attribute: allowed by the CSP.
        const left = Math.min(evt.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
        tip.style.left = Math.max(4, left) + "px";
        tip.style.top = (evt.clientY + 18) + "px";
      });
      svg.addEventListener("mouseleave", function () { tip.hidden = true; });
    }

    let resizing = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(labels, 150);
    });
    for (const f of frames) {
      f.fx = f.x / total;
      f.fw = f.v / total;
    }
    labels();
    root.dataset.ready = "true";
  }

  function start() {
    for (const root of document.querySelectorAll(".flamegraph")) init(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
