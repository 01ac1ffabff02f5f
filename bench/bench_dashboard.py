"""`dashboard` on the workspace the ingest benchmark built, measured in Chromium (Playwright, Debian's browser).

The issue's bar at 1M leads: first full render < 2 s, any filter change < 500 ms. Printed:

* server start-to-ready (process start until it answers), cold (no cache) and after a restart (disk cache);
* the background precompute (every single-filter selection, then every pair of values) as the server reports it;
* a cold selection's server time (no cache, nothing computed ahead) for three filters, custom dates and
  large multi-value selections: what such a change adds to a cached one;
* first full render (navigation start until every figure is drawn);
* each filter change from the click on the option until the page shows the new numbers, for single
  filters and pairs of values (cached by the precompute), then three filters, three sources and custom dates
  (not precomputed: computed on demand, or already computed ahead as a neighbour of the selection shown
  before if the background got to it since the previous change), with the update's payload.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measure import WORK, report, run_child

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
GRAPHS = ("funnel", "time", "sources-bar", "trend", "speed", "baseline")
# every figure drawn with data, the headline shown, nothing loading, the funnel agreeing with the headline
_DRAWN = """() => {
  const k = document.getElementById('kpi-people');
  if (!k || document.querySelector('[data-dash-is-loading="true"]')) return false;
  for (const id of GRAPHS) {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!g || !g.data || !g._fullLayout) return false;
  }
  const f = document.querySelector('#funnel .js-plotly-plot').data[0];
  return f.x[0].toLocaleString('en-US') === k.innerText ? performance.now() : false;
}""".replace("GRAPHS", str(list(GRAPHS)))
_ARM = """ids => {  // record each figure's last redraw (plotly_afterplot) from now on
  window.__drawn = {};
  window.__armed = performance.now();
  for (const id of ids) {
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    if (gd.__timer) gd.removeListener('plotly_afterplot', gd.__timer);
    gd.__timer = () => { window.__drawn[id] = performance.now(); };
    gd.on('plotly_afterplot', gd.__timer);
  }
  document.addEventListener('click', () => { window.__clicked = performance.now(); }, {capture: true, once: true});
}"""
# the new numbers shown and every figure redrawn since the click
_CHANGED = """([before, n]) => {
  const k = document.getElementById('kpi-people');
  if (!k || k.innerText === before || document.querySelector('[data-dash-is-loading="true"]')) return false;
  return Object.keys(window.__drawn).length === n;
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(ws: Path) -> Iterator[tuple[str, float, queue.Queue[tuple[float, str]]]]:
    """Start `leadjourney dashboard`; yield (url, seconds until it answered, its output lines with times)."""
    port = _port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "leadjourney", "dashboard", str(ws), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.perf_counter(), line.rstrip()))
                                     for line in proc.stdout or ()], daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("the dashboard did not start:\n" + "\n".join(lines.get()[1] for _ in range(lines.qsize())))
            try:
                with urllib.request.urlopen(url + "/_dash-layout", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        yield url, time.perf_counter() - started, lines
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_line(lines: queue.Queue[tuple[float, str]], pattern: str, timeout: float = 1800) -> tuple[float, str]:
    deadline = time.perf_counter() + timeout
    while True:
        at, line = lines.get(timeout=max(0.1, deadline - time.perf_counter()))
        if re.search(pattern, line):
            return at, line


def precomputed(lines: queue.Queue[tuple[float, str]]) -> tuple[int, float]:
    """Wait for the server's background precompute; (selections computed, seconds)."""
    _, line = wait_for_line(lines, r"Precomputed")
    found = re.search(r"Precomputed (\d+) result\(s\) in ([\d.]+) s", line)
    if found is None:
        raise SystemExit(f"unexpected server output: {line}")
    return int(found.group(1)), float(found.group(2))


class Page:
    """A Chromium page on the dashboard that times renders and filter changes."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def payloads(self) -> list[int]:
        """Bytes of each update since the last arming (the browser's resource timing)."""
        return [int(x) for x in self.page.evaluate(
            "() => performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component')"
            " && e.startTime >= (window.__armed || 0)).map(e => e.decodedBodySize)")]

    def first_render(self, url: str) -> float:
        """Navigation start until every figure is drawn (ms)."""
        self.page.goto(url)
        return float(self.page.wait_for_function(_DRAWN, polling="raf", timeout=120_000).json_value())

    def choose(self, dropdown: str, value: str, attempts: int = 3) -> tuple[float, int]:
        """Pick ``value``; ms from the click on the option until the new numbers show and every figure is
        redrawn, and the update's bytes.

        As tests/test_dashboard.py's ``choose`` for Dash 4's dropdown: each step waits for the state it
        needs (the menu open, the search filled in the menu, the option listed), and a re-render that
        closed the menu before the option was clicked starts the pick again from a closed menu.
        """
        trigger = self.page.locator(f"#{dropdown}")
        for attempt in range(attempts):
            try:
                if trigger.get_attribute("aria-expanded") != "true":
                    trigger.click()
                self.page.wait_for_function(
                    "id => document.getElementById(id)?.getAttribute('aria-expanded') === 'true'",
                    arg=dropdown, timeout=10_000)
                menu = self.page.locator(f'[id="{trigger.get_attribute("aria-controls")}"]')
                menu.locator("input.dash-dropdown-search").fill(value, timeout=10_000)
                option = menu.get_by_role("option", name=value, exact=True)
                option.wait_for(timeout=10_000)
                before = self._arm()
                option.click(timeout=10_000)
            except Exception:  # the page re-rendered under us: close whatever is open and start again
                self.page.keyboard.press("Escape")
                if attempt == attempts - 1:
                    raise
                continue
            took = self._settled(before)
            self.page.wait_for_function("([id, v]) => document.getElementById(id + '-value')?.innerText.includes(v)",
                                        arg=[dropdown, value], timeout=10_000)
            self.page.keyboard.press("Escape")
            return took, max(self.payloads, default=0)
        raise AssertionError("unreachable")

    def preset(self, label: str) -> tuple[float, int]:
        """Pick a date preset: timed like :meth:`choose`."""
        return self._timed(lambda: self.page.get_by_label(label).check()), max(self.payloads, default=0)

    def clear(self, dropdown: str) -> tuple[float, int]:
        """Clear a dropdown (back to the selection without it): timed like :meth:`choose`."""
        return self._timed(lambda: self.page.click(f"#{dropdown} .dash-dropdown-clear")), max(self.payloads, default=0)

    def _timed(self, act: Any) -> float:
        before = self._arm()
        act()
        return self._settled(before)

    def _arm(self) -> str:
        """Start recording redraws and the next click; the headline shown before."""
        before = self.page.inner_text("#kpi-people")
        self.page.evaluate(_ARM, list(GRAPHS))
        return before

    def _settled(self, before: str) -> float:
        """Wait for new numbers and every figure redrawn; ms from the click until the last redraw."""
        self.page.wait_for_function(_CHANGED, arg=[before, len(GRAPHS)], polling="raf", timeout=120_000)
        self.page.wait_for_timeout(300)  # a later redraw of a figure would still count
        return float(self.page.evaluate("() => Math.max(...Object.values(window.__drawn)) - window.__clicked"))


def _real_owners(ws: Path, keys: list[str]) -> list[str]:
    """The leads.owner values behind owner keys (pseudonyms) the page shows."""
    _, _, out = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.dashboard import DashboardData\n"
        "from leadjourney.analysis import Filters\n"
        f"d = DashboardData(Workspace.open({str(ws)!r}))\n"
        f"print('|'.join(d.resolve(Filters(owners=tuple({keys!r}))).owners))\n")
    return out.splitlines()[-1].split("|")


def options(ws: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """The sources, personas and owner keys the page offers (from the server's cache: not timed), and the
    two owner keys with the most people among the first source's first persona (non-empty third filters)."""
    _, _, out = run_child(
        "import duckdb\nfrom leadjourney.workspace import Workspace\nfrom leadjourney.dashboard import DashboardData\n"
        "from leadjourney.analysis import Filters\n"
        f"ws = Workspace.open({str(ws)!r})\nd = DashboardData(ws)\n"
        "s, p = d.source_options(), d.persona_options()\n"
        "with ws.connect(read_only=True) as con:\n"
        "    top = con.execute('SELECT owner FROM person_journeys WHERE source = ? AND persona = ? AND owner IS NOT NULL'\n"
        "                      ' GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 2', [s[0], p[0]]).fetchall()\n"
        "print('|'.join(s)); print('|'.join(p)); print('|'.join(o.key for o in d.owners()))\n"
        "print('|'.join(d.owner_keys(Filters(owners=(o,))).owners[0] for (o,) in top))\n")
    s, p, o, third = out.splitlines()[-4:]
    return s.split("|"), p.split("|"), o.split("|"), third.split("|")


_SERVER_COLD = """
import json, time
from datetime import date
from leadjourney.workspace import Workspace
from leadjourney.analysis import Filters
from leadjourney.dashboard import DashboardData
d = DashboardData(Workspace.open({ws!r}), disk=False)
d.view(Filters()); d.warm_up()  # as the server is once its precompute is done
s, p = d.source_options(), d.persona_options()
owners = {owners!r}
dates = dict(date_from=date(2026, 7, 1), date_to=date(2026, 8, 31))
cases = {{
    "three filters (source + persona + owner)": Filters(sources=(s[0],), personas=(p[0],), owners=tuple(owners[:1])),
    "source + persona + two owners": Filters(sources=(s[0],), personas=(p[0],), owners=tuple(sorted(owners))),
    "custom dates (a third of all people)": Filters(**dates),
    "custom dates + source": Filters(**dates, sources=(s[1],)),
    "custom dates + source + persona": Filters(**dates, sources=(s[1],), personas=(p[1],)),
    "three sources (about half of all people)": Filters(sources=tuple(sorted(s[:3]))),
}}
for name, f in cases.items():
    started = time.perf_counter()
    view = d.view(f)
    print(json.dumps([name, time.perf_counter() - started, view.analysis["n_people"]]))
"""


def server_cold(ws: Path, leads: int, owners: list[str]) -> None:
    """A cold selection's server time (the analysis and its matched baseline, in the server's process after
    its warm-up, with no cache): what a filter change costs on top of a cached one when the background has
    not computed it ahead."""
    _, _, out = run_child(_SERVER_COLD.format(ws=str(ws), owners=owners))
    for line in out.splitlines():
        if line.startswith("["):
            name, seconds, people = json.loads(line)
            report(f"dashboard server time of a cold selection: {name}", leads=leads, ms=seconds * 1000,
                   people=people)


def main(leads: int) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("dashboard: skipped (needs Playwright: pip install playwright)")
        return
    if not Path(CHROMIUM).exists():
        print(f"dashboard: skipped (needs Debian's Chromium at {CHROMIUM}: apt-get install -y chromium)")
        return
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    run_child(  # the baseline the period comparison uses (not timed); as bench_monitor stores it
        "from leadjourney.workspace import Workspace\nfrom leadjourney.analysis import analyze\n"
        "from leadjourney.analysis.findings import baseline, store\n"
        f"ws = Workspace.open({str(ws)!r})\n"
        "if baseline(ws) is None:\n    store(ws, analyze(ws), baseline=True)\n"
    )
    shutil.rmtree(ws / ".dashboard-cache", ignore_errors=True)  # a cold start
    with server(ws) as (url, ready, lines):
        report("dashboard server start-to-ready (cold, computes all leads first)", leads=leads, seconds=ready)
        n, seconds = precomputed(lines)
        report("dashboard precompute (each source, persona, owner, preset; then every pair of values; background)", leads=leads,
               computed=n,
               seconds=seconds)
    sources, personas, owners, (third, fourth) = options(ws)
    server_cold(ws, leads, _real_owners(ws, [third, fourth]))
    with server(ws) as (url, ready, lines), sync_playwright() as p:
        report("dashboard server start-to-ready (restart, disk cache)", leads=leads, seconds=ready)
        n, seconds = precomputed(lines)  # 0 computed unless the analysis code changed meanwhile
        report("dashboard precompute after the restart", leads=leads, computed=n, seconds=seconds)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = Page(browser.new_page(viewport={"width": 1400, "height": 1800}))
            report("dashboard first full render (new browser profile)", leads=leads, ms=page.first_render(url + "/"))
            report("dashboard first full render (browser cache warm)", leads=leads, ms=page.first_render(url + "/"))
            for dropdown, values in (("source", sources[:3]), ("persona", personas[:2]), ("owner", owners[:2])):
                for value in values:
                    ms, size = page.choose(dropdown, value)
                    report(f"dashboard filter change (cached): {dropdown} {value}", leads=leads, ms=ms, kb=size / 1024)
                    ms, size = page.clear(dropdown)
                    report(f"dashboard filter change (cached): {dropdown} cleared", leads=leads, ms=ms, kb=size / 1024)
            for label in ("last 90 days", "last 30 days"):
                ms, size = page.preset(label)
                report(f"dashboard filter change (cached): dates {label}", leads=leads, ms=ms, kb=size / 1024)
            page.first_render(url + "/")
            ms, size = page.choose("source", sources[0])
            ms, size = page.choose("persona", personas[0])
            report(f"dashboard filter change (cached, a precomputed pair): source {sources[0]} + persona {personas[0]}",
                   leads=leads, ms=ms, kb=size / 1024)
            ms, size = page.choose("owner", third)  # three filters: not precomputed
            report(f"dashboard filter change (cold, three filters): source {sources[0]} + persona {personas[0]}"
                   f" + owner {third}", leads=leads, ms=ms, kb=size / 1024)
            ms, size = page.choose("owner", fourth)  # two owners: not precomputed
            report(f"dashboard filter change (cold, three filters, two owners): + owner {fourth}", leads=leads,
                   ms=ms, kb=size / 1024)
            page.first_render(url + "/")
            ms, size = page.choose("source", sources[0])
            ms, size = page.choose("source", sources[1])  # two sources: a third of all people
            report(f"dashboard filter change (two sources, a precomputed same-kind pair): {sources[0]} + {sources[1]}",
                   leads=leads, ms=ms, kb=size / 1024)
            ms, size = page.choose("source", sources[2])
            report(f"dashboard filter change (cold, three sources, about half of all people): + {sources[2]}",
                   leads=leads, ms=ms, kb=size / 1024)
            ms = page.first_render(url + "/?from=2026-07-01&to=2026-08-31")
            report("dashboard first render of a shared link with custom dates (cold, a third of all people)",
                   leads=leads, ms=ms)
            ms, size = page.choose("source", sources[1])
            report(f"dashboard filter change (cold, custom dates): dates + source {sources[1]}", leads=leads, ms=ms,
                   kb=size / 1024)
            ms, size = page.choose("persona", personas[1])
            report(f"dashboard filter change (cold, custom dates): + persona {personas[1]}", leads=leads, ms=ms,
                   kb=size / 1024)
        finally:
            browser.close()
