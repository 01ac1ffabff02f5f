"""The map as one self-contained interactive HTML file: inline SVG, CSS and a tooltip script.

Nothing is fetched: the font is embedded in the SVG, and the script only turns each
box's ``<title>`` into a styled tooltip that follows the pointer. Below the map, a
details table lists every conversion and drop-off with its exact numbers.
"""

from __future__ import annotations

import jinja2

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

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ jm.title }} - journey map</title>
<style>
body { margin: 0; background: #F0F2F5; color: #1F2A44; font-family: Helvetica, Arial, sans-serif; }
main { max-width: {{ width }}px; margin: 0 auto; padding: 16px; }
.map { background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
.map svg { width: 100%; height: auto; display: block; }
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
<div class="map">{{ svg | safe }}</div>
<div id="lj-tip" role="tooltip"></div>
<h2>Conversion points</h2>
<table class="conversions">
<tr><th>Transition</th><th>Entered</th><th>Converted</th><th>Rate</th><th>95% CI</th><th>Median time</th>
<th>Recoverable / {{ jm.money_per }}</th>{% if jm.has_targets %}<th>Target</th><th>Gap</th>{% endif %}<th>Status</th></tr>
{% for c in jm.conversions %}
<tr data-key="{{ c.key }}"><td>{{ c.from_stage }} &rarr; {{ c.to_stage }}</td><td>{{ "{:,}".format(c.entered) }}</td>
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
<tr class="dropoff"><td>{{ d.from_stage }} &rarr; {{ d.to_stage }}</td><td class="text">{{ d.label }}</td>
<td>{{ pct(d.rate) }}</td><td>{{ pct(d.compared_with) }}</td><td>{{ money(d.revenue_impact) }}</td>
<td class="text">{{ d.reason }}</td></tr>
{% else %}
<tr><td colspan="6">No drop-off points.</td></tr>
{% endfor %}
</table>
</main>
<script>{{ script | safe }}</script>
</body>
</html>
""")


def to_html(layout: Layout, journey_map: JourneyMap) -> str:
    """A single HTML file that works offline: hover any card for its details."""
    jm = journey_map
    return _TEMPLATE.render(
        jm=jm, width=round(layout.width), svg=to_svg(layout, standalone=False), script=TOOLTIP_SCRIPT,
        pct=tx.pct, ci=tx.ci, days=tx.days, money=lambda v: tx.money(v, jm.currency),
        gap=lambda v: "-" if v is None else f"{100 * v:+.1f} pp",
    )
