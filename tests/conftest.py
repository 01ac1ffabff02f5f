"""Shared test helpers: sample files, workspaces (also with generated data) and whole-database snapshots."""

from __future__ import annotations

import atexit
import contextlib
import csv
import hashlib
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from leadjourney.cli import main
from leadjourney.config import default_config_text
from leadjourney.generate import GeneratedData, generate
from leadjourney.generate._generate import WEB as WEB_TABLE
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

DATA = Path(__file__).parent / "data"

# pytest-xdist runs one worker per core: DuckDB's own threads on top only contend (about 9 % more CPU)
os.environ.setdefault("LEADJOURNEY_THREADS", "1")

CANONICAL = ("leads", "stage_events", "touchpoints", "opportunities")
ALL_TABLES = (*CANONICAL, "quarantine", "ingests", "meta")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """An empty workspace in a fresh folder."""
    return Workspace.init(tmp_path / "ws")


def fetch(ws: Workspace, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """All rows of a query (fully fetched, as DuckDB 2 wants)."""
    with ws.connect() as con:
        return [tuple(r) for r in con.execute(sql, list(params or [])).fetchall()]


def dicts(ws: Workspace, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """All rows of a query as dicts keyed by column name."""
    with ws.connect() as con:
        cur = con.execute(sql, list(params or []))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(v)) for v in row)


def snapshot(
    ws: Workspace, tables: Iterable[str] = ALL_TABLES, drop: Sequence[str] = ()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, minus the columns named in ``drop``."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with ws.connect() as con:
        for table in tables:
            names = [str(r[0]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
            kept = [n for n in names if n not in drop]
            rows = con.execute(f"SELECT {', '.join(kept)} FROM {table}").fetchall()
            out[table] = sorted((tuple(r) for r in rows), key=_sort_key)
    return out


def counts(ws: Workspace) -> dict[str, int]:
    with ws.connect() as con:
        return {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in ALL_TABLES
        }


def text_values(ws: Workspace) -> list[tuple[str, str, str]]:
    """(table, column, value) for every VARCHAR or JSON value stored anywhere in the database."""
    found: list[tuple[str, str, str]] = []
    with ws.connect() as con:
        tables = [
            str(r[0])
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        for table in tables:
            for name, dtype, *_ in con.execute(f"DESCRIBE {table}").fetchall():
                if str(dtype) in ("VARCHAR", "JSON"):
                    for (value,) in con.execute(
                        f'SELECT CAST("{name}" AS VARCHAR) FROM {table} WHERE "{name}" IS NOT NULL'
                    ).fetchall():
                        found.append((table, str(name), str(value)))
    return found


def keep_emails(ws: Workspace, keep: bool = True) -> Workspace:
    """Edit ``[privacy] keep_emails`` in the workspace's leadjourney.toml and reopen it."""
    text = ws.config_path.read_text("utf-8")
    old, new = (
        ("keep_emails = false", "keep_emails = true")
        if keep
        else ("keep_emails = true", "keep_emails = false")
    )
    assert old in text
    ws.config_path.write_text(text.replace(old, new), "utf-8")
    return Workspace.open(ws.root)


def set_option(ws: Workspace, old: str, new: str) -> Workspace:
    """Replace one line of the workspace's leadjourney.toml and reopen it."""
    text = ws.config_path.read_text("utf-8")
    assert old in text, old
    ws.config_path.write_text(text.replace(old, new, 1), "utf-8")
    return Workspace.open(ws.root)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def csv_as_parquet(src: Path, dst: Path) -> Path:
    """Write a CSV file's rows as a Parquet file with every column as a string (blank = "")."""
    header = next(csv.reader(io.StringIO(src.read_text("utf-8"))))
    table = pacsv.read_csv(
        src,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
    )
    pq.write_table(table, dst)
    return dst


def as_json(value: Any) -> Any:
    return None if value is None else json.loads(value)


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` applied (None: unset) inside the block, as it was afterwards."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError in this (the main) thread after ``seconds``: what a subprocess' timeout was for a
    call that would block when a check regressed (a server that should have refused to start)."""
    if seconds is None:
        yield
        return

    def expire(*_: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(*args: str, columns: int = 200, env: Mapping[str, str | None] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """``leadjourney ARGS`` in this process (the real entry point, its one-line errors and exit codes), with
    stdout and stderr captured: a subprocess per call would cost two seconds of imports (``test_cli.py``
    starts the real process once). ``env``: environment variables set (None: unset) for this call only;
    ``timeout``: seconds until the call is interrupted (it then fails as an internal error). An exception
    that escapes the entry point (``--debug``) is printed with its traceback and exits 1, as the
    interpreter does."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with environment({"COLUMNS": str(columns), **(env or {})}), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with time_limit(timeout):
                main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=err)
        except Exception:  # what ``python -m leadjourney`` would print before exiting 1
            traceback.print_exc(file=err)
            code = 1
    return subprocess.CompletedProcess(["leadjourney", *args], code, out.getvalue(), err.getvalue())


def min_n_config(min_n: int = 1) -> str:
    """The default leadjourney.toml with ``[analysis] min_n`` set: hand-made workspaces of a few people test
    bookkeeping (findings, sign-offs) with rates that min_n = 30 would mark too few to judge."""
    text = default_config_text()
    assert "\nmin_n = 30\n" in text
    return text.replace("\nmin_n = 30\n", f"\nmin_n = {min_n}\n")


_CSV_BUILT: dict[str, Path] = {}  # csv_workspace's inputs -> a workspace built from them in this process


def csv_workspace(root: Path, config: str | None = None, **tables: str) -> Workspace:
    """A new workspace at ``root`` ingested from hand-made CSV texts, one per canonical table
    (``csv_workspace(root, leads=LEADS, stage_events=EVENTS)``), with ``config`` as its leadjourney.toml.

    Built once per distinct inputs in a process, then copied (an ingest costs seconds, a copy milliseconds):
    each call gets its own workspace, as if ingested there (paths in it are relative to its folder)."""
    key = hashlib.sha256(repr((config, sorted(tables.items()))).encode()).hexdigest()
    if root.exists():
        return _csv_workspace(root, config, **tables)
    if key not in _CSV_BUILT:
        built = Path(tempfile.mkdtemp(prefix="lj-csv-workspace-")) / "ws"
        atexit.register(shutil.rmtree, built.parent, True)
        _csv_workspace(built, config, **tables)
        _CSV_BUILT[key] = built
    return copy_workspace(Workspace.open(_CSV_BUILT[key]), root)


def _csv_workspace(root: Path, config: str | None = None, **tables: str) -> Workspace:
    ws = Workspace.init(root)
    if config is not None:
        ws.config_path.write_text(config, "utf-8")
    for table, text in tables.items():
        (root / f"{table}.csv").write_text(text, "utf-8")
    ws = Workspace.open(root)
    ws.set_sources([{"name": t, "path": f"{t}.csv", "format": "csv", "table": t} for t in tables])
    ingest(ws)
    return Workspace.open(root)


def generated_workspace(root: Path, *, web: bool = False, **options: Any) -> tuple[Workspace, GeneratedData]:
    """A new workspace at ``root`` holding generated data (``generate(root / "data", **options)``), ingested.

    ``web``: also register the generated GA4 web export (staging it and building the visits costs more than
    the CRM data at these sizes; the analyses of the web journey run only where it is loaded). The other
    files, and the ground truth, are the same either way."""
    ws = Workspace.init(root)
    data = generate(root / "data", **options)
    ws.set_sources(generated_sources(data, root, web=web))
    ingest(ws)
    return ws, data


def generated_sources(data: GeneratedData, root: Path, *, web: bool = False) -> list[dict[str, str]]:
    """``data``'s sources for a workspace at ``root`` (paths relative to it); ``web``: with the GA4 export."""
    return [{**s, "path": os.path.relpath(data.files[s["table"]], root)} for s in data.sources
            if web or s["table"] != WEB_TABLE]


SharedGenerated = Callable[..., tuple[Workspace, GeneratedData]]  # the ``shared_generated`` fixture


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every xdist worker sees (the parent of the workers' own ``popen-gwN``
    folders), or this session's own folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _built_once(folder: Path, key: str, build: Callable[[Path], GeneratedData]) -> tuple[Path, GeneratedData]:
    """``build(folder / <key's digest> / "ws")`` done by the first worker of the run to ask (the others wait for
    it, holding a file lock) and read by every worker: (the workspace's folder, what was generated)."""
    import fcntl
    import pickle

    here = folder / "shared-generated" / hashlib.sha256(key.encode()).hexdigest()[:16]
    here.mkdir(parents=True, exist_ok=True)
    with (here / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = here / "generated.pickle"
            if not done.exists():
                data = build(here / "ws")
                staged = here / "generated.pickle.tmp"
                staged.write_bytes(pickle.dumps(data))
                staged.replace(done)
            return here / "ws", pickle.loads(done.read_bytes())  # written by this run
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _moved(data: GeneratedData, old: Path, new: Path) -> GeneratedData:
    """``data`` with its paths under ``old`` moved under ``new``."""
    def move(path: Path) -> Path:
        return new / Path(path).relative_to(old)

    return replace(data, out_dir=move(data.out_dir), ground_truth_path=move(data.ground_truth_path),
                   truth_leads_path=move(data.truth_leads_path),
                   files={table: move(path) for table, path in data.files.items()})


@pytest.fixture(scope="session")
def shared_generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedGenerated]:
    """``shared_generated(**options)``: :func:`generated_workspace` built once per distinct options for the
    whole test run (generating and ingesting thousands of leads takes seconds; several modules read the same
    set): the first xdist worker to ask builds it, each worker reads its own copy. READ ONLY: a test that
    writes (a baseline, findings, out/ files, a dashboard cache) works on :func:`copy_workspace` of it; the
    session fails if a shared workspace's files changed."""
    built: dict[str, tuple[Workspace, GeneratedData, dict[str, tuple[int, int]]]] = {}

    def get(**options: Any) -> tuple[Workspace, GeneratedData]:
        key = repr(sorted(options.items()))
        if key not in built:
            original, data = _built_once(_run_folder(tmp_path_factory), key,
                                         lambda root: generated_workspace(root, **options)[1])
            ws = copy_workspace(Workspace.open(original), tmp_path_factory.mktemp("shared") / "ws")
            built[key] = ws, _moved(data, original, ws.root), _files(ws.root)
        ws, data, _ = built[key]
        return ws, data

    yield get
    changed = {k: sorted(set(files.items()) ^ set(_files(ws.root).items())) for k, (ws, _, files) in built.items()}
    assert not any(changed.values()), f"a test wrote to a shared workspace (use copy_workspace): {changed}"


def copy_workspace(ws: Workspace, root: Path) -> Workspace:
    """A copy of ``ws`` (config, database, data files) at ``root``, to write to: far cheaper than generating
    and ingesting the same data again."""
    shutil.copytree(ws.root, root)
    return Workspace.open(root)


# --- a real browser (Playwright driving Debian's Chromium; Playwright never downloads one) ----------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
_without_browser = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="needs Playwright (pip install playwright) and Debian's Chromium at /usr/bin/chromium "
           "(apt-get install -y chromium); .ci/run installs it",
)
_without_office = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="needs LibreOffice (apt-get install -y libreoffice-writer libreoffice-impress); .ci/run installs it",
)
Test = TypeVar("Test", bound=Callable[..., Any])


def needs_browser(test: Test) -> Test:
    """A test driving headless Chromium: marked ``browser`` (``make test-integration`` runs it, ``make test``
    does not), skipped where Playwright or Chromium is missing."""
    marked: Test = pytest.mark.browser(_without_browser(test))
    return marked


def needs_office(test: Test) -> Test:
    """A test converting with LibreOffice: marked ``office`` (run by ``make test-integration``), skipped where
    ``soffice`` is missing."""
    marked: Test = pytest.mark.office(_without_office(test))
    return marked


@contextmanager
def chromium_page(width: int = 1400, height: int = 1800) -> Iterator[Any]:
    """A page in headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def analyses_without_derived_table(ws: Workspace, table: str, fingerprint_key: str,
                                   now: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The analysis JSON with the derived ``table`` and without it (dropped, then rebuilt by a re-ingest)."""
    from leadjourney.analysis import analyze

    before = analyze(ws, now=now).to_dict()
    with ws.connect() as con:
        con.execute("DELETE FROM meta WHERE key = ?", [fingerprint_key])
        con.execute(f"DROP TABLE {table}")
    try:
        after = analyze(ws, now=now).to_dict()
    finally:
        ingest(ws)
    return before, after


@contextmanager
def journeys_with(ws: Workspace, filters: Any = None, now: Any = None, **options: Any) -> Iterator[Any]:
    """:func:`~leadjourney.analysis.journeys.open_journeys` with :class:`Journeys` options given (``lazy_share``,
    ``engagement_from``): the choices a run makes by itself, made for it."""
    import ibis

    from leadjourney.analysis.journeys import Filters, Journeys

    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, filters or Filters(), now, **options)
        try:
            yield journeys
        finally:
            journeys.release()


def analysis_with(ws: Workspace, filters: Any = None, now: Any = None, **options: Any) -> dict[str, Any]:
    """``analyze(ws, filters=filters, now=now).to_dict()`` with :class:`Journeys` options given (see
    :func:`journeys_with`)."""
    from leadjourney.analysis.report import analyze_journeys

    with journeys_with(ws, filters, now, **options) as journeys:
        return analyze_journeys(journeys, str(ws.root)).to_dict()


def same_numbers(a: object, b: object) -> bool:
    """Equal, floats to 1e-9 relative (a parallel sum adds in any order)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_numbers(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.fixture
def drawn_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text Pillow draws in this test, in order (the pictures' words, to check without reading pixels)."""
    from PIL import ImageDraw

    drawn: list[str] = []
    real = ImageDraw.ImageDraw.text

    def spy(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(str(text))
        real(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    return drawn


@pytest.fixture
def api() -> Iterator[Any]:
    """A real HTTP server on 127.0.0.1 speaking a fake API (tests/connectors/apiserver.py), one per test."""
    from apiserver import ApiServer  # tests/connectors is on the path of the tests that use it

    with ApiServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _databases_kept_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test of ``make test`` runs as a command does: a workspace database once opened stays open until the
    test ends (opening DuckDB costs ~17 ms). Not for tests where another process must open the database while
    they run: those are marked ``databases_closed``, and the integration groups (servers and commands in their
    own processes) keep nothing open."""
    from leadjourney.workspace import databases_kept_open

    closed = ("databases_closed", "browser", "office", "slow", "spark")
    keep = not any(request.node.get_closest_marker(name) for name in closed)
    with databases_kept_open(keep):
        yield
