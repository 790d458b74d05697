"""``propcloud bench energy``: the scale benchmarks (reported, never asserted; docs/benchmarks.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

REPO_ROOT = Path(__file__).resolve().parent.parent


def _benchmarks():  # type: ignore[no-untyped-def]
    """The ``benchmarks`` package: it lives in the repository and is not installed."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from benchmarks import energy

    return energy


def _sla_benchmark():  # type: ignore[no-untyped-def]
    """``benchmarks.sla`` (see :func:`_benchmarks`)."""
    _benchmarks()
    from benchmarks import sla

    return sla


def _quality_benchmark():  # type: ignore[no-untyped-def]
    """``benchmarks.quality`` (see :func:`_benchmarks`)."""
    _benchmarks()
    from benchmarks import quality

    return quality


def register(main: click.Group) -> None:
    """Attach ``propcloud bench`` and its commands."""

    @main.group()
    def bench() -> None:
        """Scale benchmarks: generate a group, time it, report ratios with the core count."""

    @bench.command("energy")
    @click.option("--offices", default=50, show_default=True, help="Offices in the group.")
    @click.option("--points", default=60, show_default=True, help="Metering points per office.")
    @click.option("--days", default=365, show_default=True, help="Days of daily readings.")
    @click.option(
        "--backend",
        type=click.Choice(["sqlite", "postgresql", "both"]),
        default="both",
        show_default=True,
    )
    @click.option(
        "--import-sample",
        default=1_000_000,
        show_default=True,
        help="Readings (whole offices, at least one) through the real import; the rest is "
        "bulk-loaded.",
    )
    @click.option(
        "--import-chunk",
        default=250_000,
        show_default=True,
        help="Readings per imported file.",
    )
    @click.option("--query-runs", default=20, show_default=True, help="Timed runs per query.")
    @click.option(
        "--pg-url",
        default=None,
        help="PostgreSQL admin URL; a throw-away database is created next to it "
        "(default: PROPCLOUD_BENCH_PG_URL or postgres@127.0.0.1:5432).",
    )
    @click.option(
        "--workdir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where the databases and warehouses go (default: a temporary folder, removed).",
    )
    @click.option(
        "--refresh-via",
        type=click.Choice(["import", "bulk"]),
        default="import",
        show_default=True,
        help="How the new day before the refresh arrives: the real import, or bulk-loaded "
        "(the import re-validates every point's whole history: slow at large scales).",
    )
    @click.option("--keep", is_flag=True, help="Keep the databases and warehouses.")
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/energy.json"),
        show_default=True,
        help="JSON report to write.",
    )
    def bench_energy(
        offices: int,
        points: int,
        days: int,
        backend: str,
        import_sample: int,
        import_chunk: int,
        query_runs: int,
        pg_url: str | None,
        workdir: Path | None,
        refresh_via: str,
        keep: bool,
        out: Path,
    ) -> None:
        """Energy at group scale: import, floor, extraction, build, refresh, queries, memory.

        Target scale: --offices 500 --points 60 --days 730 (≈ 22 M readings).
        """
        energy = _benchmarks()
        options = energy.Options(
            offices=offices,
            points=points,
            days=days,
            backends=("sqlite", "postgresql") if backend == "both" else (backend,),
            import_sample=import_sample,
            import_chunk=import_chunk,
            query_runs=query_runs,
            workdir=workdir,
            keep=keep,
            refresh_via=refresh_via,
            **({"pg_admin_url": pg_url} if pg_url else {}),
        )
        report = energy.run_benchmark(options, log=lambda m: click.echo(m, err=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(energy.format_report(report))
        click.echo(f"\nreport written to {out}")

    @bench.command("sla")
    @click.option("--offices", default=20, show_default=True, help="Offices in the group.")
    @click.option(
        "--orders",
        default=100_000,
        show_default=True,
        help="Work orders in all (with their events and clocks), shared between the offices.",
    )
    @click.option(
        "--backend",
        type=click.Choice(["sqlite", "postgresql", "both"]),
        default="both",
        show_default=True,
    )
    @click.option(
        "--transitions",
        default=200,
        show_default=True,
        help="Corrective orders moved assign → process → verify through the services.",
    )
    @click.option("--query-runs", default=20, show_default=True, help="Timed runs per query.")
    @click.option(
        "--max-days",
        default=730,
        show_default=True,
        help="Longest history; beyond it corrective orders make up each office's share.",
    )
    @click.option(
        "--pg-url",
        default=None,
        help="PostgreSQL admin URL; a throw-away database is created next to it "
        "(default: PROPCLOUD_BENCH_PG_URL or postgres@127.0.0.1:5432).",
    )
    @click.option(
        "--workdir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where the databases and warehouses go (default: a temporary folder, removed).",
    )
    @click.option("--keep", is_flag=True, help="Keep the databases and warehouses.")
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/sla.json"),
        show_default=True,
        help="JSON report to write.",
    )
    def bench_sla(
        offices: int,
        orders: int,
        backend: str,
        transitions: int,
        query_runs: int,
        max_days: int,
        pg_url: str | None,
        workdir: Path | None,
        keep: bool,
        out: Path,
    ) -> None:
        """Maintenance and SLA at group scale: generation, floor, build, refresh, queries,
        a month of periodic orders, transitions through the services, memory.

        Target scale: --offices 500 --orders 10000000.
        """
        sla = _sla_benchmark()
        options = sla.Options(
            offices=offices,
            orders=orders,
            backends=("sqlite", "postgresql") if backend == "both" else (backend,),
            transitions=transitions,
            query_runs=query_runs,
            max_days=max_days,
            workdir=workdir,
            keep=keep,
            **({"pg_admin_url": pg_url} if pg_url else {}),
        )
        report = sla.run_benchmark(options, log=lambda m: click.echo(m, err=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(sla.format_report(report))
        click.echo(f"\nreport written to {out}")

    @bench.command("quality")
    @click.option("--offices", default=50, show_default=True, help="Offices in the group.")
    @click.option(
        "--contracts",
        default=200,
        show_default=True,
        help="Supplier contracts in all (one per office and discipline, at most four an office).",
    )
    @click.option("--days", default=730, show_default=True, help="Days of inspection history.")
    @click.option(
        "--plans",
        default=2,
        show_default=True,
        help="Weekly professional inspection plans per office and discipline (the scale knob).",
    )
    @click.option("--items", default=10, show_default=True, help="Items per inspection plan.")
    @click.option(
        "--backend",
        type=click.Choice(["sqlite", "postgresql"]),
        default="sqlite",
        show_default=True,
    )
    @click.option("--query-runs", default=20, show_default=True, help="Timed runs per query.")
    @click.option("--pg-url", default=None, help="PostgreSQL admin URL (as for bench sla).")
    @click.option(
        "--workdir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where the database and warehouse go (default: a temporary folder, removed).",
    )
    @click.option("--keep", is_flag=True, help="Keep the database and warehouse.")
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/quality.json"),
        show_default=True,
        help="JSON report to write.",
    )
    def bench_quality(
        offices: int,
        contracts: int,
        days: int,
        plans: int,
        items: int,
        backend: str,
        query_runs: int,
        pg_url: str | None,
        workdir: Path | None,
        keep: bool,
        out: Path,
    ) -> None:
        """Inspections, nonconformities and supplier scores at group scale: generation, floor,
        full build, refresh after a day, the quality review's and the ranking's queries.

        Target scale: --offices 500 --contracts 2000 --plans 10 --items 10 (≈ 2 M orders,
        20 M item scores)."""
        quality = _quality_benchmark()
        options = quality.Options(
            offices=offices,
            contracts=contracts,
            days=days,
            plans=plans,
            items=items,
            backend=backend,
            query_runs=query_runs,
            workdir=workdir,
            keep=keep,
            **({"pg_admin_url": pg_url} if pg_url else {}),
        )
        report = quality.run_benchmark(options, log=lambda m: click.echo(m, err=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(quality.format_report(report))
        click.echo(f"\nreport written to {out}")

    @bench.command("load")
    @click.option("--offices", default=12, show_default=True, help="Offices of the demo group.")
    @click.option("--days", default=730, show_default=True, help="Days of demo history.")
    @click.option(
        "--sessions",
        default="1,2,4,8",
        show_default=True,
        help="Levels of concurrent sessions (people opening pages at once), comma-separated.",
    )
    @click.option("--loads", default=12, show_default=True, help="Page loads per session.")
    @click.option(
        "--pages",
        default="overview,energy,sla,workload",
        show_default=True,
        help="Pages opened in turn (their addresses; overview is the first page).",
    )
    @click.option(
        "--user", default="hq", show_default=True, help="Demo user the sessions log in as."
    )
    @click.option(
        "--servers", default=1, show_default=True, help="Streamlit processes, sessions spread."
    )
    @click.option("--port", default=8700, show_default=True, help="Port of the first server.")
    @click.option(
        "--server-arg",
        "server_args",
        multiple=True,
        help="Extra argument for `streamlit run`, e.g. --server-arg=--server.fileWatcherType=auto.",
    )
    @click.option(
        "--driver-nice",
        default=0,
        show_default=True,
        help="Niceness of the driver process (19: the lowest priority).",
    )
    @click.option(
        "--workdir",
        type=click.Path(path_type=Path),
        default=Path("var/bench/load"),
        show_default=True,
        help="Database and warehouse of the demo group (made once, kept).",
    )
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/load.json"),
        show_default=True,
        help="JSON report to write.",
    )
    def bench_load(
        offices: int,
        days: int,
        sessions: str,
        loads: int,
        pages: str,
        user: str,
        servers: int,
        port: int,
        server_args: tuple[str, ...],
        driver_nice: int,
        workdir: Path,
        out: Path,
    ) -> None:
        """Dashboard pages under many concurrent sessions: median page time, pages per second
        and the server's CPU per page, with the driver in a process of its own (its CPU reported)."""
        _benchmarks()
        from benchmarks import load

        options = load.Options(
            workdir=workdir,
            offices=offices,
            days=days,
            sessions=tuple(int(n) for n in sessions.split(",") if n.strip()),
            loads=loads,
            pages=tuple(p.strip() for p in pages.split(",") if p.strip()),
            user=user,
            servers=servers,
            port=port,
            server_args=server_args,
            driver_nice=driver_nice,
        )
        report = load.run_benchmark(options, log=lambda m: click.echo(m, err=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(load.format_report(report))
        click.echo(f"\nreport written to {out}")

    @bench.command("memory")
    @click.argument("database_url")
    @click.option(
        "--limits",
        default="none,2GB",
        show_default=True,
        help="PROPCLOUD_WAREHOUSE_MEMORY_LIMIT values to build under (none: unset), comma-separated.",
    )
    @click.option(
        "--workdir",
        type=click.Path(path_type=Path),
        default=Path("var/bench/memory"),
        show_default=True,
        help="Where the warehouse directories of the builds go (each removed after).",
    )
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/memory.json"),
        show_default=True,
        help="JSON report to write.",
    )
    def bench_memory(database_url: str, limits: str, workdir: Path, out: Path) -> None:
        """Full builds of an existing database (e.g. one kept by `bench sla --keep`) under memory
        limits: time, peak RSS, DuckDB's spill and what is left behind."""
        _benchmarks()
        from benchmarks import memory

        report = memory.run_benchmark(
            database_url,
            workdir,
            [v.strip() for v in limits.split(",") if v.strip()],
            log=lambda m: click.echo(m, err=True),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(memory.format_report(report))
        click.echo(f"\nreport written to {out}")

    @bench.command("tickets")
    @click.option("--offices", default=4, show_default=True, help="Demo offices in the group.")
    @click.option(
        "--days", default=60, show_default=True, help="Days of ticket history (the services)."
    )
    @click.option(
        "--open-complaints",
        default=5_000,
        show_default=True,
        help="Open complaints written in bulk for the escalation check (the issue: 50 000).",
    )
    @click.option(
        "--breached",
        default=200,
        show_default=True,
        help="Of the open complaints, those breaching in the hour the firing tick looks at.",
    )
    @click.option(
        "--intake", default=100, show_default=True, help="Repairs recorded and worked through."
    )
    @click.option("--lookups", default=100, show_default=True, help="Caller lookups by phone.")
    @click.option(
        "--query-runs",
        default=20,
        show_default=True,
        help="Timed runs of each page query (escalation board, SLA ticket clocks, tower).",
    )
    @click.option(
        "--backend",
        type=click.Choice(["sqlite", "postgresql", "both"]),
        default="both",
        show_default=True,
    )
    @click.option("--seed", default=15, show_default=True)
    @click.option("--pg-url", default=None, help="PostgreSQL admin URL (see bench sla).")
    @click.option("--workdir", type=click.Path(path_type=Path), default=None)
    @click.option("--keep", is_flag=True, help="Keep the databases and warehouses.")
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path("var/bench/tickets.json"),
        show_default=True,
    )
    @click.option(
        "--history",
        type=click.Choice(["services", "bulk"]),
        default="services",
        show_default=True,
        help="How the history is written: through the ticket services (the demo's path) or "
        "in bulk with the services' rows (operational.demo.ticket_history), for full scale.",
    )
    @click.option(
        "--tickets",
        "n_tickets",
        default=0,
        help="Bulk: tickets in the history (0: the demo's rate).",
    )
    @click.option("--houses", default=0, help="Bulk: houses over every office (0: 48 an office).")
    @click.option(
        "--occupants", default=0, help="Bulk: current occupants over every office (0: 1.5 a house)."
    )
    @click.option(
        "--batch-offices", default=10, show_default=True, help="Bulk: offices per transaction."
    )
    def bench_tickets(
        offices: int,
        days: int,
        open_complaints: int,
        breached: int,
        intake: int,
        lookups: int,
        query_runs: int,
        backend: str,
        seed: int,
        pg_url: str | None,
        workdir: Path | None,
        keep: bool,
        out: Path,
        history: str,
        n_tickets: int,
        houses: int,
        occupants: int,
        batch_offices: int,
    ) -> None:
        """Tickets: intake and transitions through the services, the escalation check over the
        open complaints, caller lookup (phone, house, name), the ticket marts' build and
        refresh."""
        _benchmarks()
        from benchmarks import tickets

        options = tickets.Options(
            offices=offices,
            days=days,
            open_complaints=open_complaints,
            breached=breached,
            intake=intake,
            lookups=lookups,
            backends=("sqlite", "postgresql") if backend == "both" else (backend,),
            seed=seed,
            workdir=workdir,
            keep=keep,
            history=history,
            tickets=n_tickets,
            houses=houses,
            occupants=occupants,
            batch_offices=batch_offices,
            query_runs=query_runs,
            **({"pg_admin_url": pg_url} if pg_url else {}),
        )
        report = tickets.run_benchmark(options, log=lambda m: click.echo(m, err=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(tickets.format_report(report))
        click.echo(f"\nreport written to {out}")
