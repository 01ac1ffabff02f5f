"""`dashboard` on the workspace the ingest benchmark built, measured in Chromium (Playwright, Debian's browser).

The issue's bar at 1M leads: first full render < 2 s, any filter change < 500 ms. Printed:

* server start-to-ready (process start until it answers), cold (no cache) and after a restart (disk cache);
* the background precompute (every single-filter selection) as the server reports it;
* first full render (navigation start until every figure is drawn);
* each filter change from the click on the option until the page shows the new numbers, for single
  filters (cached by the precompute) and combined ones (computed on demand), with the update's payload.
"""

from __future__ import annotations

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
_CHANGED = """before => {
  const k = document.getElementById('kpi-people');
  if (!k || k.innerText === before || document.querySelector('[data-dash-is-loading="true"]')) return false;
  const f = document.querySelector('#funnel .js-plotly-plot').data[0];
  return f.x[0].toLocaleString('en-US') === k.innerText ? performance.now() : false;
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


class Page:
    """A Chromium page on the dashboard that times renders and filter changes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.payloads: list[int] = []
        page.on("response", self._response)

    def _response(self, r: Any) -> None:
        if r.url.endswith("/_dash-update-component"):
            size = r.headers.get("content-length")
            self.payloads.append(int(size) if size else len(r.body()))

    def first_render(self, url: str) -> float:
        """Navigation start until every figure is drawn (ms)."""
        self.page.goto(url)
        return float(self.page.wait_for_function(_DRAWN, polling="raf", timeout=120_000).json_value())

    def choose(self, dropdown: str, value: str) -> tuple[float, int]:
        """Pick ``value``; ms from the click on the option until the new numbers show, and the update's bytes."""
        before = self.page.inner_text("#kpi-people")
        self.page.click(f"#{dropdown}")
        self.page.keyboard.type(value)
        option = self.page.get_by_role("option", name=value, exact=True)
        option.wait_for()
        self.payloads.clear()
        self.page.evaluate("() => document.addEventListener('click', () => { window.__clicked = performance.now(); },"
                           " {capture: true, once: true})")
        option.click()
        done = float(self.page.wait_for_function(_CHANGED, arg=before, polling="raf", timeout=120_000).json_value())
        self.page.keyboard.press("Escape")
        took = done - float(self.page.evaluate("() => window.__clicked"))
        return took, max(self.payloads, default=0)

    def clear(self, dropdown: str) -> tuple[float, int]:
        """Clear a dropdown (back to the selection without it): timed like :meth:`choose`."""
        before = self.page.inner_text("#kpi-people")
        self.payloads.clear()
        self.page.evaluate("() => document.addEventListener('click', () => { window.__clicked = performance.now(); },"
                           " {capture: true, once: true})")
        self.page.click(f"#{dropdown} .dash-dropdown-clear")
        done = float(self.page.wait_for_function(_CHANGED, arg=before, polling="raf", timeout=120_000).json_value())
        return done - float(self.page.evaluate("() => window.__clicked")), max(self.payloads, default=0)


def options(ws: Path) -> tuple[list[str], list[str], list[str]]:
    """The sources, personas and owner keys the page offers (from the server's cache: not timed)."""
    _, _, out = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.dashboard import DashboardData\n"
        f"d = DashboardData(Workspace.open({str(ws)!r}))\n"
        "print('|'.join(d.source_options())); print('|'.join(d.persona_options()));"
        " print('|'.join(o.key for o in d.owners()))\n")
    s, p, o = out.splitlines()[-3:]
    return s.split("|"), p.split("|"), o.split("|")


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

        bench_ingest.main(leads)
    run_child(  # the baseline the period comparison uses (not timed); as bench_monitor stores it
        "from leadjourney.workspace import Workspace\nfrom leadjourney.analysis import analyze\n"
        "from leadjourney.analysis.findings import baseline, store\n"
        f"ws = Workspace.open({str(ws)!r})\n"
        "if baseline(ws) is None:\n    store(ws, analyze(ws), baseline=True)\n"
    )
    shutil.rmtree(ws / ".dashboard-cache", ignore_errors=True)  # a cold start
    with server(ws) as (url, ready, lines):
        report("dashboard server start-to-ready (cold, computes all leads first)", leads=leads, seconds=ready)
        _, line = wait_for_line(lines, r"Precomputed")
        seconds = float(re.search(r"in ([\d.]+) s", line).group(1))  # type: ignore[union-attr]
        n = int(re.search(r"Precomputed (\d+)", line).group(1))  # type: ignore[union-attr]
        report("dashboard precompute (each source, persona, owner; background)", leads=leads, selections=n,
               seconds=seconds)
    sources, personas, owners = options(ws)
    with server(ws) as (url, ready, lines), sync_playwright() as p:
        report("dashboard server start-to-ready (restart, disk cache)", leads=leads, seconds=ready)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = Page(browser.new_page(viewport={"width": 1400, "height": 1800}))
            report("dashboard first full render", leads=leads, ms=page.first_render(url + "/"))
            report("dashboard first full render (again)", leads=leads, ms=page.first_render(url + "/"))
            for dropdown, values in (("source", sources[:3]), ("persona", personas[:2]), ("owner", owners[:2])):
                for value in values:
                    ms, size = page.choose(dropdown, value)
                    report(f"dashboard filter change (cached): {dropdown} {value}", leads=leads, ms=ms, kb=size / 1024)
                    ms, size = page.clear(dropdown)
                    report(f"dashboard filter change (cached): {dropdown} cleared", leads=leads, ms=ms, kb=size / 1024)
            ms, size = page.choose("source", sources[0])
            for dropdown, value in (("persona", personas[0]), ("owner", owners[0])):
                ms, size = page.choose(dropdown, value)
                report(f"dashboard filter change (cold, combined): source {sources[0]} + {dropdown} {value}",
                       leads=leads, ms=ms, kb=size / 1024)
            ms = page.first_render(url + "/?from=2026-01-01&to=2026-03-31")
            report("dashboard first render of a shared link with custom dates (cold)", leads=leads, ms=ms)
            ms, size = page.choose("source", sources[1])
            report(f"dashboard filter change (cold, custom dates): dates + source {sources[1]}", leads=leads, ms=ms,
                   kb=size / 1024)
        finally:
            browser.close()
