"""The Ibis backend a run's analyses read, chosen by ``[engine]`` in leadjourney.toml.

``duckdb`` (the default): the workspace's own database file, read only. ``pyspark``: a Spark session
(``[engine] master``: ``local[*]`` or a cluster's URL) over the workspace's tables exported as Parquet
(:mod:`leadjourney.table_export`; exported again first when the workspace changed since), each a
temporary view under its table name. ``postgres``: a warehouse, that export loaded into it (the per-person
tables built there: :mod:`leadjourney.warehouse`). The analyses are the same Ibis expressions on each.

>>> with connect_backend(ws) as backend:              # doctest: +SKIP
...     journeys = Journeys(backend, ws.config, Filters())
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from leadjourney.config import EngineSettings
from leadjourney.spark import spark_backend, spark_session

if TYPE_CHECKING:
    import ibis

    from leadjourney.workspace import Workspace


@contextmanager
def connect_backend(ws: Workspace, engine: EngineSettings | None = None) -> Iterator[ibis.BaseBackend]:
    """The backend ``engine`` (default: the workspace's ``[engine]``) names, for one run."""
    import ibis

    settings = engine or ws.config.engine
    if settings.backend == "duckdb":
        with ws.connect(read_only=True) as con:
            yield ibis.duckdb.from_connection(con)
        return
    if settings.backend == "postgres":
        from leadjourney.warehouse import connect_postgres

        with connect_postgres(ws, settings) as backend:
            yield backend
        return
    from leadjourney.table_export import export_tables

    export = export_tables(ws, engine=settings)  # the derived tables built by Spark (table_export.derive_in_spark)
    session = spark_session(settings.master, settings.spark_conf)
    for table in export.tables:
        session.read.parquet(str(export.path(table))).createOrReplaceTempView(table)
    yield spark_backend(session)


__all__ = ["connect_backend"]
