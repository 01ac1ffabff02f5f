"""Open a .drawio file in draw.io's own viewer, in Chromium, offline, and say what it made of it.

    .venv/bin/python -m bench.drawio_check                  # a fresh map of a small demo workspace
    .venv/bin/python -m bench.drawio_check out/journey_map.drawio [--png shot.png]

The engine is draw.io's viewer (viewer.min.js, draw.io 16.6.4, Apache-2.0 like draw.io) as the npm
package docusaurus-plugin-drawio@0.4.0 ships it: `npm pack` fetches that one tarball (0.5 MB, no
dependencies, no install scripts) into bench/.work/drawio. The page opens the file as draw.io does
(mxfile -> diagram -> Editor.parseDiagramNode, inflating a compressed diagram -> mxCodec decode into
a Graph) and reports the vertices, edges and swimlanes the engine built against the file's cells,
tooltips draw.io shows, cells not rendered or not where their geometry says, labels that read
otherwise than written, tooltips holding markup (draw.io reads a tooltip as HTML), text outside its cell or over other text, JS errors and any request that
would leave the machine (refused). A screenshot PNG is saved. Exit 1 when anything is off.
A dev check, not part of pytest: it needs npm, Playwright and Debian's Chromium.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bench.measure import WORK

PACKAGE = "docusaurus-plugin-drawio@0.4.0"
SHA1 = "3ace168188a4ac2a0bc377da21b3d544a2768416"  # the registry's shasum of that tarball
ENGINE = WORK / "drawio"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DEMO = WORK / "drawio-demo"
CHECKS = ("dangling_edges", "unrendered", "misplaced", "label_mismatch", "overflow", "text_overlaps",
          "tooltip_markup")


def engine() -> Path:
    """bench/.work/drawio with draw.io's viewer.min.js, fetched with npm pack the first time."""
    viewer = ENGINE / "viewer.min.js"
    if viewer.exists():
        return ENGINE
    ENGINE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", str(ENGINE), "--silent"], check=True,
                   stdout=subprocess.DEVNULL)
    tgz = ENGINE / (PACKAGE.replace("@", "-") + ".tgz")
    if hashlib.sha1(tgz.read_bytes()).hexdigest() != SHA1:
        raise SystemExit(f"{tgz.name}: not the tarball this check was written against")
    with tarfile.open(tgz) as tar:
        for name in ("viewer.min.js", "LICENSE"):
            member = tar.extractfile(f"package/{name}")
            assert member is not None
            (ENGINE / name).write_bytes(member.read())
    tgz.unlink()
    return ENGINE


def demo_map() -> Path:
    """A fresh journey_map.drawio of a small demo workspace (made once, under bench/.work)."""
    cli = str(Path(sys.executable).with_name("leadjourney"))
    if not (DEMO / "leadjourney.duckdb").exists():
        shutil.rmtree(DEMO, ignore_errors=True)
        _quietly([cli, "demo", str(DEMO), "--leads", "3000"])
    _quietly([cli, "map", str(DEMO), "--format", "drawio", "--no-tables"])
    return DEMO / "out" / "journey_map.drawio"


def _quietly(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def file_cells(text: str) -> dict[str, int]:
    """The cells the file holds: mxCell, or UserObject/object around one."""
    counts = {"vertices": 0, "edges": 0, "swimlanes": 0, "tooltips": 0}
    for root in ET.fromstring(text).iter("root"):
        for node in root:
            cell = node if node.tag == "mxCell" else node.find("mxCell")
            if cell is None:
                continue
            counts["tooltips"] += bool(node.get("tooltip") or cell.get("tooltip"))
            if cell.get("vertex") == "1":
                counts["vertices"] += 1
                counts["swimlanes"] += (cell.get("style") or "").startswith("swimlane")
            elif cell.get("edge") == "1":
                counts["edges"] += 1
    return counts


def open_in_drawio(text: str, png: Path) -> tuple[dict[str, Any], list[str]]:
    """What draw.io's viewer built of ``text``, and the errors and refused requests on the way."""
    from playwright.sync_api import Route, sync_playwright

    page_file = engine() / "check.html"
    page_file.write_text(PAGE, encoding="utf-8")
    errors: list[str] = []

    def route(r: Route) -> None:
        url = r.request.url
        if "/math/MathJax.js" in url:  # the viewer preloads MathJax whatever the file says
            r.fulfill(body="", content_type="text/javascript")
        elif url.startswith("file:"):
            r.continue_()
        else:  # offline: nothing leaves the machine
            errors.append(f"refused request: {url}")
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 2000, "height": 1200})
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"requestfailed: {r.url} {r.failure}"))
            page.route("**/*", route)
            page.goto(page_file.as_uri())
            stats = page.evaluate("xml => window.ljOpen(xml)", text)
            page.wait_for_timeout(300)
            page.locator("#graph").screenshot(path=str(png))
        finally:
            browser.close()
    return stats, errors


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drawio_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, help="a .drawio file (default: a fresh demo map)")
    parser.add_argument("--png", type=Path, help="screenshot path (default: beside the file, .drawio.png)")
    parser.add_argument("--json", action="store_true", help="print the engine's whole report as JSON")
    args = parser.parse_args()
    path = args.file or demo_map()
    png = (args.png or path.with_name(path.name + ".png")).resolve()
    text = path.read_text(encoding="utf-8")
    want = file_cells(text)
    stats, errors = open_in_drawio(text, png)
    if args.json:
        print(json.dumps({"file": want, "engine": stats, "errors": errors}, indent=1))
    print(f"engine: draw.io viewer {stats['engine']} ({PACKAGE}), {stats['pages']} page(s)")
    print(f"{'':12} {'file':>6} {'draw.io':>8}")
    for key in ("vertices", "edges", "swimlanes", "tooltips"):
        print(f"{key:12} {want[key]:>6} {stats[key]:>8}")
    print(f"rendered: {stats['rendered_shapes']} shapes, {stats['rendered_labels']} labels "
          f"({stats['html_labels']} HTML); bounds {stats['bounds']}")
    if stats["unknown_style_keys"]:
        print("style keys mxGraph does not name (draw.io's own or ours, kept as they are): "
              + ", ".join(stats["unknown_style_keys"]))
    bad = [f"{key}: {len(stats[key])}, e.g. {stats[key][:3]}" for key in CHECKS if stats[key]]
    bad += [f"{key}: file {want[key]}, draw.io {stats[key]}" for key in want if want[key] != stats[key]]
    for line in bad + errors:
        print("PROBLEM " + line)
    print(f"screenshot: {png}")
    print("ok" if not bad and not errors else f"{len(bad) + len(errors)} problem(s)")
    return 1 if bad or errors else 0


PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>draw.io check</title>
<script>
  // draw.io's viewer, offline: no resources, stylesheets, stencils or proxies from its servers.
  window.mxLoadResources = false;
  window.mxLoadStylesheets = false;
  window.mxBasePath = "./mx/";
  window.mxImageBasePath = "./mx/images";
  window.STENCIL_PATH = "./stencils";
  window.SHAPES_PATH = "./shapes";
  window.GRAPH_IMAGE_PATH = "./img";
  window.PROXY_URL = "./proxy";
  window.DRAWIO_LIGHTBOX_URL = "./lightbox";
  window.DRAW_MATH_URL = "./math";
</script>
<script src="./viewer.min.js"></script>
<style>body { margin: 0; background: #fff; } #graph { display: inline-block; }</style>
</head>
<body>
<div id="graph"></div>
<script>
// Open a .drawio text as draw.io's viewer does (mxfile -> diagram -> Editor.parseDiagramNode, which
// inflates a compressed diagram -> mxCodec decode into the Graph's model) and describe what came out.
window.ljOpen = function (xml) {
  var doc = mxUtils.parseXml(xml);
  var container = document.getElementById("graph");
  var viewer = new GraphViewer(container, doc.documentElement, {
    highlight: "#0000ff", nav: false, lightbox: false, resize: false, toolbar: null, zoom: 1, border: 0,
    "auto-fit": false, "check-visible-state": false});
  var graph = viewer.graph, model = graph.getModel(), view = graph.view;
  var out = {engine: (typeof EditorUi !== "undefined" && EditorUi.VERSION) || mxClient.VERSION,
             vertices: 0, edges: 0, swimlanes: 0, containers: 0, rendered_shapes: 0, rendered_labels: 0,
             html_labels: 0, tooltips: 0, tooltip_markup: [], text_overlaps: [], no_geometry: [], dangling_edges: [], unrendered: [],
             misplaced: [], label_mismatch: [], overflow: [], style_keys: {}, by_shape: {}, edge_points: []};
  var known = {}, offsets = [], inks = [];
  for (var k in mxConstants) if (k.indexOf("STYLE_") === 0) known[mxConstants[k]] = 1;
  var plain = function (value) {  // what an HTML label reads as
    var d = document.createElement("div"); d.innerHTML = value; return d.textContent;
  };
  var abs = function (cell) {
    var x = 0, y = 0;
    for (var c = cell; c != null && model.getGeometry(c) != null; c = model.getParent(c)) {
      x += model.getGeometry(c).x; y += model.getGeometry(c).y;
    }
    return [x, y];
  };
  for (var id in model.cells) {
    var cell = model.cells[id];
    if (!model.isVertex(cell) && !model.isEdge(cell)) continue;
    var style = graph.getCellStyle(cell), state = view.getState(cell);
    (cell.style || "").split(";").forEach(function (part) {
      if (!part) return;
      var key = part.indexOf("=") < 0 ? "(named) " + part : part.split("=")[0];
      out.style_keys[key] = (out.style_keys[key] || 0) + 1;
    });
    var tip = graph.getTooltipForCell(cell);
    if (tip) {
      out.tooltips++;
      var given = mxUtils.isNode(cell.value) ? cell.value.getAttribute("tooltip") : null;
      var d = document.createElement("div"); d.innerHTML = given || "";  // draw.io reads it as HTML
      if (d.querySelector(":not(br)")) {  // markup: text that was meant literally, unescaped
        out.tooltip_markup.push({id: id, given: given.slice(0, 80), shown: d.textContent.slice(0, 80)});
      }
    }
    if (model.getGeometry(cell) == null) out.no_geometry.push(id);
    if (state == null || state.shape == null || state.shape.node == null || state.shape.node.ownerSVGElement == null) {
      out.unrendered.push(id);
    } else {
      out.rendered_shapes++;
    }
    var label = graph.getLabel(cell);
    if (state && state.text && state.text.node && state.text.node.ownerSVGElement && label) {
      out.rendered_labels++;
      var fo = state.text.node.getElementsByTagName("foreignObject");
      var shown = state.text.node.textContent;
      if (fo.length) out.html_labels++;
      var want = graph.isHtmlLabel(cell) ? plain(label) : label;
      if (shown.replace(/\\s+/g, " ").trim() !== want.replace(/\\s+/g, " ").trim()) {
        out.label_mismatch.push({id: id, want: want.slice(0, 120), shown: shown.slice(0, 120)});
      }
      var range = document.createRange();  // the text's own box, not its container's
      var divs = state.text.node.getElementsByTagName("div");  // mxText: foreignObject > div > div > div (text)
      range.selectNodeContents(divs.length ? divs[divs.length - 1] : state.text.node);
      var r = range.getBoundingClientRect(), c = container.getBoundingClientRect();
      var ink = {id: id, x0: r.left - c.left, y0: r.top - c.top, x1: r.right - c.left, y1: r.bottom - c.top,
                 text: want.slice(0, 50)};
      inks.push(ink);
      if (model.isVertex(cell) && !graph.isSwimlane(cell)) {
        var sb = state.shape.node.getBoundingClientRect();  // the cell's own box, on screen
        var over = Math.max(sb.left - r.left, r.right - sb.right, sb.top - r.top, r.bottom - sb.bottom);
        if (over > 2) out.overflow.push({id: id, px: Math.round(over), text: ink.text});
      }
    }
    if (model.isVertex(cell)) {
      out.vertices++;
      var shape = style[mxConstants.STYLE_SHAPE] || "rectangle";
      out.by_shape[shape] = (out.by_shape[shape] || 0) + 1;
      if (graph.isSwimlane(cell)) out.swimlanes++;
      if (graph.isContainer(cell)) out.containers++;
      if (state) {  // the engine places the cell where its geometry (relative to its parents) says
        var p = abs(cell), g = model.getGeometry(cell), s = view.scale, t = view.translate;
        var dx = state.x / s - t.x - p[0], dy = state.y / s - t.y - p[1];
        var dw = state.width / s - g.width, dh = state.height / s - g.height;
        offsets.push({id: id, dx: dx, dy: dy, dw: dw, dh: dh});
      }
    } else {
      out.edges++;
      var src = model.getTerminal(cell, true), dst = model.getTerminal(cell, false);
      if (state == null || state.absolutePoints == null ||
          state.absolutePoints.length < 2 || state.absolutePoints.indexOf(null) >= 0) {
        out.dangling_edges.push(id);
      } else {
        out.edge_points.push(state.absolutePoints.length);
      }
    }
  }
  // the viewer crops the diagram to its bounds: one shift for all; any other offset is a misplaced cell
  var x0 = Math.min.apply(null, offsets.map(function (o) { return o.dx; }));
  var y0 = Math.min.apply(null, offsets.map(function (o) { return o.dy; }));
  out.shift = [x0, y0];
  offsets.forEach(function (o) {
    if (Math.max(Math.abs(o.dx - x0), Math.abs(o.dy - y0), Math.abs(o.dw), Math.abs(o.dh)) > 0.5) out.misplaced.push(o);
  });
  // text drawn over other text: what a reader of the opened file would see as a defect
  out.text_overlaps = [];
  for (var i = 0; i < inks.length; i++) for (var j = i + 1; j < inks.length; j++) {
    var a = inks[i], q = inks[j];
    var ox = Math.min(a.x1, q.x1) - Math.max(a.x0, q.x0), oy = Math.min(a.y1, q.y1) - Math.max(a.y0, q.y0);
    if (ox > 1 && oy > 2) out.text_overlaps.push([a.text, q.text, Math.round(ox), Math.round(oy)]);
  }
  out.unknown_style_keys = Object.keys(out.style_keys).filter(function (k) {
    return k.indexOf("(named) ") !== 0 && !known[k];
  });
  var b = graph.getGraphBounds();
  out.bounds = [Math.round(b.x), Math.round(b.y), Math.round(b.width), Math.round(b.height)];
  out.pages = viewer.diagrams ? viewer.diagrams.length : 1;
  return out;
};
</script>
</body>
</html>
"""

if __name__ == "__main__":
    sys.exit(main())
