"""`leadjourney dashboard`: serve the monitoring dashboard, or export a static snapshot.

Registered on the main app when :mod:`leadjourney.cli.app` is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadjourney.cli.base import WorkspaceArg, app, console
from leadjourney.cli.selection import (
    EngineOption,
    FromOption,
    OwnerOption,
    PersonaOption,
    SourceOption,
    ToOption,
    selection,
)
from leadjourney.cli.workspace_arg import open_workspace


@app.command("dashboard")
def dashboard_command(
    workspace: WorkspaceArg = Path("."),
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs dashboard.auth_env set up.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8050,
    behind_proxy: Annotated[bool, typer.Option(
        "--behind-proxy", help="Served through one reverse proxy (TLS) that sets X-Forwarded-For/-Proto/-Host: "
        "trust them (the cookie is then Secure over https, rate limits count each client). Needs auth_env; only "
        "with a proxy in front, and bound to an address only it reaches.")] = False,
    export: Annotated[Path | None, typer.Option("--export", help="Write a self-contained static HTML snapshot "
                                                "to this file instead of serving.")] = None,
    date_from: FromOption = None, date_to: ToOption = None, source: SourceOption = None,
    persona: PersonaOption = None, owner: OwnerOption = None,
    engine: EngineOption = None,
) -> None:
    """Monitoring dashboard: funnel, time in stage, sources, speed-to-lead, period vs baseline, friction.

    The filters (--from/--to/--source/--persona/--owner) choose the exported snapshot's selection.
    Example: [bold]leadjourney dashboard acme-journey[/bold], then open http://127.0.0.1:8050
    """
    from leadjourney.workflows.dashboard import DashboardReady, export_dashboard, serve_dashboard

    ws = open_workspace(workspace, engine)
    if export is not None:
        export_dashboard(ws, selection(ws, date_from, date_to, source, persona, owner), export)
        console.print(f"  written  {export}")
        return

    def ready(up: DashboardReady) -> None:
        console.print(f"Numbers for all leads ready in {up.seconds:.1f} s "
                      f"({'from the cache' if up.from_cache else 'computed'}); "
                      "precomputing each single-filter selection, then each pair of values, in the background")
        console.print(f"Serving the dashboard on {up.url} (Ctrl+C to stop)" + (", login required" if up.login else ""))

    serve_dashboard(ws, host=host, port=port, behind_proxy=behind_proxy, ready=ready,
                    precomputed=lambda n, s: console.print(
                        f"Precomputed {n} result(s) in {s:.1f} s (each filter value, then each pair of values); "
                        "from now on the selections one change away from the one shown are computed ahead"))
