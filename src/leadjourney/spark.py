"""Spark sessions for the ``pyspark`` engine: one per (master, configuration) a process, built with our
properties (UTC, the driver on 127.0.0.1 in local mode, no web UI, local memory defaults) and ``[engine]
spark_conf`` over them, and an Ibis backend over a session that computes numbers as DuckDB does.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from leadjourney.errors import OptionError

if TYPE_CHECKING:
    import ibis

SPARK_INSTALL = ("pip install 'leadjourney[spark]' and a Java 17+ runtime (apt-get install openjdk-17-jre-headless), "
                 "or set [engine] backend = \"duckdb\"")
_sessions: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}  # (master URL, conf) -> SparkSession, kept for the process (starting one takes seconds)
_sessions_lock = threading.Lock()


def spark_backend(session: Any) -> ibis.BaseBackend:
    """An Ibis backend over the Spark ``session``, compiling numbers as DuckDB computes them
    (:func:`_exact_spark_compiler`)."""
    import ibis

    backend = ibis.pyspark.connect(session)
    backend.compiler = _exact_spark_compiler()
    return backend


def _exact_spark_compiler() -> Any:
    """Ibis's Spark SQL compiler with two numbers and lower case made as DuckDB makes them (results equal to 1e-9).

    A float literal (``/ 86400.0``) is a DOUBLE, not Spark's DECIMAL (which rounds a quotient to 6-7
    places); epoch seconds keep their fraction (``unix_micros``), as DuckDB's ``epoch`` does, instead of
    ``unix_timestamp``'s whole seconds; ``lower()`` is ``translate()`` with DuckDB's own map
    (:func:`~leadjourney.casefold.lower_map`: Java's makes ``ΟΔΟΣ`` ``οδος`` and ``İ`` two characters).
    """
    global _compiler
    if _compiler is None:
        import ibis.expr.datatypes as dt
        import sqlglot.expressions as sge
        from ibis.backends.sql.compilers.pyspark import PySparkCompiler

        from leadjourney.casefold import lower_map

        class ExactSparkCompiler(PySparkCompiler):
            def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: dt.DataType) -> Any:
                result = super().visit_NonNullLiteral(op, value=value, dtype=dtype)
                if dtype.is_floating() and isinstance(result, sge.Literal):
                    return self.cast(result, dt.float64)
                return result

            def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:
                micros = self.f.unix_micros(self.cast(arg, dt.timestamp))
                return sge.Div(this=self.cast(micros, dt.float64), expression=self.cast(sge.convert(1_000_000), dt.float64))

        def visit_lowercase(self: Any, op: Any, *, arg: Any) -> Any:
            upper, lower = lower_map()
            return self.f.translate(arg, upper, lower)

        # set after the class is made: Ibis defines each simple operation's method on every subclass
        ExactSparkCompiler.visit_Lowercase = visit_lowercase  # type: ignore[attr-defined]
        _compiler = ExactSparkCompiler()
    return _compiler


_compiler: Any = None


def local_spark_conf(cores: int | None, memory_bytes: int | None) -> dict[str, str]:
    """The properties a local Spark session gets unless ``[engine] spark_conf`` sets them, for a machine of
    ``cores`` and ``memory_bytes`` (``None``: unknown, Spark's own default): the driver (which runs every task
    in local mode) half the memory, at least 1 GB; two shuffle partitions a core."""
    conf = {"spark.sql.shuffle.partitions": str(max(2, 2 * (cores or 1)))}
    if memory_bytes:
        conf["spark.driver.memory"] = f"{max(1, memory_bytes // 2 // 2**30)}g"
    return conf


def machine_memory() -> int | None:
    """This machine's physical memory in bytes, or ``None`` where the system does not say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def spark_conf_for(master: str, conf: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """Every property the session for ``master`` is built with: ours, the local defaults
    (:func:`local_spark_conf`, a local master only), then ``conf`` (``[engine] spark_conf``) over them."""
    out = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
           "spark.sql.parquet.inferTimestampNTZ.enabled": "true"}
    if master.startswith("local"):
        out |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
        out |= local_spark_conf(os.cpu_count(), machine_memory())
    return out | dict(conf)


def spark_session(master: str, conf: tuple[tuple[str, str], ...] = ()) -> Any:
    """The process's Spark session for ``master`` (UTC, its driver on 127.0.0.1, no web UI) built with
    :func:`spark_conf_for` (``conf``: ``[engine] spark_conf``). Its JVM starts once a process: a later call
    with other memory settings gets the first session's JVM."""
    key = (master, conf)
    with _sessions_lock:
        if key not in _sessions:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise OptionError(f"engine.backend: \"pyspark\" needs pyspark, not installed here; "
                                  f"{SPARK_INSTALL}") from None
            builder = SparkSession.builder.master(master).appName("leadjourney")
            for name, value in spark_conf_for(master, conf).items():
                builder = builder.config(name, value)
            try:
                session = builder.getOrCreate()
            except Exception as exc:  # no Java (JAVA_GATEWAY_EXITED), a master that cannot be reached
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise OptionError(f"engine.master: cannot start Spark on {master!r}: {first}; {SPARK_INSTALL}") from None
            session.sparkContext.setLogLevel("ERROR")
            _sessions[key] = session
        return _sessions[key]


__all__ = ["SPARK_INSTALL", "local_spark_conf", "machine_memory", "spark_backend", "spark_conf_for", "spark_session"]
