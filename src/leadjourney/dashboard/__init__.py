"""The monitoring dashboard (Plotly Dash): the analysis numbers per filter selection, served or exported."""

from __future__ import annotations

from leadjourney.dashboard.app import create_app
from leadjourney.dashboard.data import DashboardData, View
from leadjourney.dashboard.export import export_html
from leadjourney.dashboard.security import (
           Auth,
           DashboardError,
           auth_from_env,
           check_bind,
           hash_password,
)

__all__ = ["Auth", "DashboardData", "DashboardError", "View", "auth_from_env", "check_bind", "create_app",
           "export_html", "hash_password"]
