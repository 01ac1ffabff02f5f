"""The map as one self-contained interactive HTML file: inline SVG, CSS, a tooltip and a zoom script.

Nothing is fetched: the font is embedded in the SVG, and the scripts turn each box's
``<title>`` into a styled tooltip that follows the pointer, and zoom and pan the map in its
window (Ctrl + wheel, the + / - buttons or keys, 0 to fit; drag, wheel or arrow keys to pan).
Below the map, details tables list every conversion, drop-off and web or campaign touchpoint with its exact
numbers.
"""

from __future__ import annotations

import jinja2

from leadjourney.display import money
from leadjourney.escape import xml_text
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.boxes import Layout
from leadjourney.journeymap.model import JourneyMap
from leadjourney.journeymap.svg import to_svg

TOOLTIP_SCRIPT = """
(function () {
  var tip = document.getElementById("lj-tip");
  document.querySelectorAll("svg.leadjourney-map g").forEach(function (g) {
    var t = g.querySelector(":scope > title");
    if (!t) { return; }
    g.setAttribute("data-tip", t.textContent);
    t.remove();
  });
  function show(ev) {
    var g = ev.target.closest("[data-tip]");
    if (!g) { tip.style.display = "none"; return; }
    tip.textContent = g.getAttribute("data-tip");
    tip.style.display = "block";
    var x = ev.clientX + 16, y = ev.clientY + 16;
    if (x + tip.offsetWidth > window.innerWidth - 8) { x = ev.clientX - tip.offsetWidth - 16; }
    if (y + tip.offsetHeight > window.innerHeight - 8) { y = ev.clientY - tip.offsetHeight - 16; }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  document.addEventListener("mousemove", show);
  document.addEventListener("mouseleave", function () { tip.style.display = "none"; });
})();
"""

ZOOM_SCRIPT = """
(function () {
  var box = document.getElementById("lj-map"), svg = box.querySelector("svg");
  var level = document.getElementById("lj-zoom-level"), MIN = 0.5, MAX = 6, scale = 1;
  function zoom(to, cx, cy) {
    var r = box.getBoundingClientRect(), s = svg.getBoundingClientRect();
    if (cx === undefined) { cx = r.width / 2; cy = r.height / 2; }
    var ux = (box.scrollLeft + cx) / s.width, uy = (box.scrollTop + cy) / s.height;
    scale = Math.min(MAX, Math.max(MIN, to));
    svg.style.width = (100 * scale) + "%";
    s = svg.getBoundingClientRect();
    box.scrollLeft = ux * s.width - cx;
    box.scrollTop = uy * s.height - cy;
    box.setAttribute("data-scale", scale.toFixed(3));
    level.textContent = Math.round(100 * scale) + "%";
  }
  window.ljZoom = zoom;
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom");
      zoom(how === "in" ? scale * 1.25 : how === "out" ? scale / 1.25 : 1);
      box.focus({preventScroll: true});
    });
  });
  box.addEventListener("wheel", function (ev) {
    if (!(ev.ctrlKey || ev.metaKey)) { return; }  // a plain wheel scrolls (pans) the map as usual
    ev.preventDefault();
    var r = box.getBoundingClientRect();
    zoom(scale * Math.exp(-ev.deltaY * 0.0025), ev.clientX - r.left, ev.clientY - r.top);
  }, {passive: false});
  var drag = null;
  box.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) { return; }
    drag = {x: ev.clientX, y: ev.clientY, left: box.scrollLeft, top: box.scrollTop};
    box.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    box.scrollLeft = drag.left - (ev.clientX - drag.x);
    box.scrollTop = drag.top - (ev.clientY - drag.y);
  });
  window.addEventListener("pointerup", function () { drag = null; box.classList.remove("dragging"); });
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName)) { return; }
    var step = 80, keys = {"+": function () { zoom(scale * 1.25); }, "=": function () { zoom(scale * 1.25); },
      "-": function () { zoom(scale / 1.25); }, "0": function () { zoom(1); },
      "ArrowLeft": function () { box.scrollLeft -= step; }, "ArrowRight": function () { box.scrollLeft += step; },
      "ArrowUp": function () { box.scrollTop -= step; }, "ArrowDown": function () { box.scrollTop += step; }};
    if (keys[ev.key] && (ev.key.indexOf("Arrow") !== 0 || document.activeElement === box)) {
      keys[ev.key]();
      ev.preventDefault();
    }
  });
})();
"""

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ jm.title }} - journey map</title>
<style>
body { margin: 0; background: #F0F2F5; color: #1F2A44; font-family: Helvetica, Arial, sans-serif; }
main { max-width: {{ width }}px; margin: 0 auto; padding: 16px; }
.map { background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.15); overflow: auto; max-height: calc(100vh - 64px);
  cursor: grab; outline: none; }
.map:focus-visible { box-shadow: 0 0 0 2px #4A6FA5; }
.map.dragging { cursor: grabbing; user-select: none; }
.map svg { width: 100%; height: auto; display: block; max-width: none; }
.zoom { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 6px; padding: 6px 0;
  background: #F0F2F5; font-size: 13px; color: #5F6B7A; }
.zoom button { min-width: 32px; height: 28px; border: 1px solid #B0BAC6; border-radius: 6px; background: #fff;
  color: #1F2A44; font: bold 15px Helvetica, Arial, sans-serif; cursor: pointer; }
.zoom button:hover { background: #E6EAF0; }
#lj-zoom-level { min-width: 44px; text-align: right; font-weight: bold; color: #1F2A44; }
.map g[data-tip]:hover > rect, .map g[data-tip]:hover > path { filter: brightness(0.96); stroke-width: 2.5; }
#lj-tip { position: fixed; display: none; max-width: 420px; padding: 8px 10px; background: #1F2A44; color: #fff;
  font: 13px/1.4 Helvetica, Arial, sans-serif; border-radius: 6px; white-space: pre-line; pointer-events: none;
  z-index: 10; box-shadow: 0 2px 8px rgba(0,0,0,.3); }
table { border-collapse: collapse; margin: 16px 0; background: #fff; font-size: 13px; }
th, td { border: 1px solid #D5DBE3; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
tr.dropoff td { color: #B71C1C; }
</style>
</head>
<body>
<main>
<div class="zoom" role="toolbar" aria-label="Zoom the map">
<button type="button" data-zoom="out" title="Zoom out (-)" aria-label="Zoom out">&minus;</button>
<span id="lj-zoom-level" aria-live="polite">100%</span>
<button type="button" data-zoom="in" title="Zoom in (+)" aria-label="Zoom in">+</button>
<button type="button" data-zoom="fit" title="Fit the width (0)" aria-label="Fit the width">Fit</button>
<span>Zoom: Ctrl + wheel, + / &minus; keys or buttons, 0 to fit &middot; Pan: drag, wheel or arrow keys</span>
</div>
<div class="map" id="lj-map" tabindex="0" data-scale="1.000">{{ svg | safe }}</div>
<div id="lj-tip" role="tooltip"></div>
<h2>Conversion points</h2>
<table class="conversions">
<tr><th>Transition</th><th>Entered</th><th>Converted</th><th>Rate</th><th>95% CI</th><th>Median time</th>
<th>Recoverable / {{ jm.money_per }}</th>{% if jm.has_targets %}<th>Target</th><th>Gap</th>{% endif %}<th>Status</th></tr>
{% for c in jm.conversions %}
<tr data-key="{{ c.key }}"><td>{{ jm.name(c.from_stage) }} &rarr; {{ jm.name(c.to_stage) }}</td><td>{{ "{:,}".format(c.entered) }}</td>
<td>{{ "{:,}".format(c.converted) }}</td><td>{{ pct(c.rate) }}</td><td>{{ ci(c.ci_low, c.ci_high) }}</td>
<td>{{ days(c.median_days) }}{{ "" if c.median_is_km else "*" }}</td><td>{{ money(c.revenue_impact) }}</td>
{% if jm.has_targets %}<td>{{ pct(c.target) }}</td><td>{{ gap(c.gap) }}</td>{% endif %}
<td class="text">{{ c.mark.status if c.mark else "" }}</td></tr>
{% endfor %}
</table>
<h2>Drop-off points</h2>
<table class="drop-offs">
<tr><th>Transition</th><th>Segment</th><th>Rate</th><th>Compared with</th><th>Recoverable / {{ jm.money_per }}</th><th>Why</th></tr>
{% for d in jm.drop_offs %}
<tr class="dropoff"><td>{{ jm.name(d.from_stage) }} &rarr; {{ jm.name(d.to_stage) }}</td><td class="text">{{ jm.segment_name(d.segment) }}</td>
<td>{{ pct(d.rate) }}</td><td>{{ pct(d.compared_with) }}</td><td>{{ money(d.revenue_impact) }}</td>
<td class="text">{{ d.reason }}</td></tr>
{% else %}
<tr><td colspan="6">No drop-off points.</td></tr>
{% endfor %}
</table>
{% if jm.marketing %}
<h2>Web and campaigns</h2>
<table class="marketing">
<tr><th>Stage</th><th>Kind</th><th>Name</th><th>Figure</th><th>95% CI</th><th>n</th><th>Note</th></tr>
{% for p in jm.marketing %}
<tr{% if p.flag and p.status.judged %} class="dropoff"{% endif %}><td>{{ jm.name(p.stage) }}</td><td class="text">{{ p.kind }}</td>
<td class="text">{{ clean(p.name) }}</td><td>{{ (p.value_text ~ " " ~ p.metric) if p.value is not none else "-" }}</td>
<td>{{ p.ci_text }}</td><td>{{ "{:,}".format(p.n) if p.value is not none else "-" }}</td>
<td class="text">{{ clean(p.flag if p.flag and p.status.judged else p.status.text()) }}</td></tr>
{% endfor %}
</table>
{% endif %}
</main>
<script>{{ script | safe }}</script>
<script>{{ zoom | safe }}</script>
</body>
</html>
""")


def to_html(layout: Layout, journey_map: JourneyMap) -> str:
    """A single HTML file that works offline: hover any card for its details; zoom and pan the map."""
    jm = journey_map
    return _TEMPLATE.render(
        jm=jm, width=round(layout.width), svg=to_svg(layout, standalone=False), script=TOOLTIP_SCRIPT, zoom=ZOOM_SCRIPT,
        clean=xml_text, pct=tx.pct, ci=tx.ci, days=tx.days, money=lambda v: money(v, jm.currency),
        gap=lambda v: "-" if v is None else f"{100 * v:+.1f} pp",
    )
