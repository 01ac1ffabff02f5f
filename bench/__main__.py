"""Run the benchmarks and print their figures.

    python -m bench                 # every benchmark at its default size
    python -m bench ingest --leads 100000
    python -m bench startup         # `leadjourney --help` and `import leadjourney` beside `python -c pass`
    python -m bench campaigns --leads 100000   # the campaign analyses at ~1M touchpoints vs a GROUP BY
    python -m bench web --events 5000000 --leads 100000   # GA4 events: ingest and web analyses (default 50M, 1M)
    python -m bench growth          # analyze at 100k, 1M and 10M leads (builds what is missing; slow)
    python -m bench engines --leads 100000   # analyze on DuckDB and on Spark local (pip install pyspark; a JDK)
"""

from __future__ import annotations

import argparse

from bench import (
    bench_analyze,
    bench_bad_rows,
    bench_campaigns,
    bench_core,
    bench_dashboard,
    bench_engines,
    bench_generate,
    bench_growth,
    bench_ingest,
    bench_map,
    bench_map_parts,
    bench_monitor,
    bench_personas,
    bench_startup,
    bench_web,
)

BENCHMARKS = {"generate": bench_generate.main, "ingest": bench_ingest.main, "analyze": bench_analyze.main,
              "core": bench_core.main, "map": bench_map.main, "map-parts": bench_map_parts.main, "personas": bench_personas.main,
              "monitor": bench_monitor.main, "dashboard": bench_dashboard.main,
              "startup": bench_startup.main, "growth": bench_growth.main, "bad-rows": bench_bad_rows.main,
              "campaigns": bench_campaigns.main, "engines": bench_engines.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", choices=[*BENCHMARKS, "web", "all"], default="all")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to generate (default 1M)")
    parser.add_argument("--events", type=int, default=50_000_000, help="web: GA4 events to load (default 50M)")
    parser.add_argument("--formats", default="parquet,csv", help="ingest: the file formats to load (default both)")
    args = parser.parse_args()
    if args.which == "ingest":
        bench_ingest.main(args.leads, tuple(args.formats.split(",")))
        return
    if args.which == "web":  # not part of `all`: 50M events take minutes and several GB of disk
        bench_web.main(args.leads, args.events)
        return
    for name, run in BENCHMARKS.items():
        if args.which == name or (args.which == "all" and name not in ("growth", "engines")):
            run(args.leads)


if __name__ == "__main__":
    main()
