"""Bad files shaped like real CRM exports: every good row loads, each bad row is quarantined with file, row,
column and reason, and the command says so in one line; Ctrl-C leaves the workspace as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import counts, fetch, snapshot
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

# ------------------------------------------------------------------------------------------- Ctrl-C


def _big_leads_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("lead_id,created_at,source,company,job_title,employee_count,country,email\n")
        for i in range(rows):
            out.write(f"B{i:07d},2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d},Organic Search,"
                      f"Company {i % 977},Engineer,{i % 5000},US,b{i}@example.com\n")


def _holds_open(pid: int, path: Path) -> bool:
    """True when process ``pid`` has ``path`` open (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="watches the ingest through /proc (Linux)")
def test_ctrl_c_during_ingest_exits_130_and_leaves_the_workspace_unchanged(ws: Workspace) -> None:
    (ws.root / "small.csv").write_text("lead_id,created_at,source\nS1,2024-01-01,seo\nS2,2024-01-02,ppc\n")
    ws.set_sources([{"name": "small", "path": "small.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    before, tables = snapshot(ws), counts(ws)
    assert tables["leads"] == 2
    _big_leads_csv(ws.root / "big.csv", 300_000)
    ws.set_sources([{"name": "big", "path": "big.csv", "format": "csv", "table": "leads"}])
    database = ws.database_path.resolve()
    proc = subprocess.Popen([sys.executable, "-m", "leadjourney", "ingest", str(ws.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # under way: the database held open for a while (the ingest's transaction), not just looked at
        held_since = None
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if _holds_open(proc.pid, database):
                held_since = held_since or time.monotonic()
                if time.monotonic() - held_since > 0.8:
                    break
            else:
                held_since = None
            time.sleep(0.02)
        assert proc.poll() is None, "the ingest finished before it could be interrupted; use a bigger file"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (out, err)
    assert err.strip() == "interrupted; the workspace is unchanged", err
    assert "internal error" not in out + err
    reopened = Workspace.open(ws.root)
    assert counts(reopened) == tables
    assert snapshot(reopened) == before
    assert fetch(reopened, "SELECT count(*) FROM leads WHERE origin = 'small'") == [(2,)]
