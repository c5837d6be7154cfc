"""Lookup benchmark: `svod profile` latency from a warm process on a large profile store.

    python -m benchmarks.lookup --customers 1000000   # by hand (a few minutes to build)
    python -m benchmarks.lookup --small               # CI: 20,000 customers

Builds a synthetic staged table (two records per customer: phones, e-mails, names, some
companies and ИНН), runs the real profile builders and the real atomic publish (with its
indexes) into a fresh DuckDB file, adds one order event per customer, then opens one read-only
connection and times full card lookups (`pipelines.profile.lookup.lookup`) by phone, e-mail,
customer ID and ИНН. Reports build/publish time and lookup median / p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.common import OUT, Timer, peak_rss_mb, save
from identity.normalize.identifiers import inn_check_digits
from pipelines.config import ProfileConfig
from pipelines.profile.build import build_profile_tables
from pipelines.profile.history import history_snapshot
from pipelines.profile.lookup import lookup
from pipelines.publication import publish
from pipelines.schema import EVENT_SCHEMA, empty_raw_frame
from pipelines.staging import normalize_records
from pipelines.warehouse import RUNS_COLUMNS

_LAST = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов"]
_FIRST = ["Иван", "Пётр", "Анна", "Мария", "Олег", "Елена", "Сергей", "Ольга"]
COMPANIES = 2_000  # every 50th customer works for one of them: 10 contacts per company at 1M


def company_inn(n: int) -> str:
    """A checksum-valid synthetic ИНН-10 for company number ``n``."""
    body = f"77{n:07d}"
    return body + inn_check_digits(body)


def _customer_id(n: pl.Expr) -> pl.Expr:
    """`C` + 15 digits: the shape of a real customer ID (digits are hex digits too)."""
    return pl.concat_str(pl.lit("C"), n.cast(pl.String).str.zfill(15))


def synthetic_staged(customers: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(staged, links): two records per customer, shaped like real staged records."""
    n = customers * 2
    i = pl.int_range(0, n, eager=True)
    cust = i // 2
    schema = normalize_records(empty_raw_frame()).schema
    inns = pl.Series([company_inn(k) for k in range(COMPANIES)])
    phone = pl.format("+79{}", (cust + 100_000_000).cast(pl.String))
    frame = pl.DataFrame({"i": i, "cust": cust}).with_columns(
        record_key=pl.format("src{}|{}", pl.col("i") % 2, pl.col("i")),
        source=pl.format("src{}", pl.col("i") % 2),
        ingested_at=pl.lit(datetime(2026, 1, 1, tzinfo=UTC)),
        observed_at=pl.format("0{}.0{}.2025", pl.col("i") % 9 + 1, pl.col("i") % 9 + 1),
        entity_kind=pl.lit("person"),
        last_name=pl.lit(pl.Series(_LAST)).gather(pl.col("cust") % len(_LAST)),
        first_name=pl.lit(pl.Series(_FIRST)).gather(pl.col("cust") % len(_FIRST)),
        phones=pl.concat_list(phone),
        phone_types=pl.concat_list(pl.lit("mobile")),
        emails=pl.concat_list(pl.format("user{}@mail.ru", pl.col("cust"))),
        inn=pl.when(pl.col("cust") % 50 == 0).then(
            pl.lit(inns).gather((pl.col("cust") // 50) % COMPANIES)
        ),
        company_name=pl.when(pl.col("cust") % 50 == 0).then(
            pl.format("Ромашка-{}", (pl.col("cust") // 50) % COMPANIES)
        ),
        company_key=pl.when(pl.col("cust") % 50 == 0).then(
            pl.format("ромашка-{}", (pl.col("cust") // 50) % COMPANIES)
        ),
        gender=pl.when(pl.col("cust") % 2 == 0).then(pl.lit("m")).otherwise(pl.lit("f")),
        birth_date=pl.lit(date(1980, 1, 1)) + pl.duration(days=pl.col("cust") % 10_000),
    )
    frame = frame.with_columns(
        full_name=pl.concat_str("last_name", "first_name", separator=" "),
        raw_phone=pl.col("phones").list.first(),
        raw_email=pl.col("emails").list.first(),
    )
    staged = frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
         for c, t in schema.items()]
    )  # fmt: skip
    links = frame.select("record_key", customer_id=_customer_id(pl.col("cust")))
    return staged, links


def synthetic_events(customers: int) -> pl.DataFrame:
    """One order per customer, on its first record."""
    cust = pl.int_range(0, customers, eager=True)
    frame = pl.DataFrame({"cust": cust}).with_columns(
        event_id=pl.format("src0|order:{}", pl.col("cust")),
        record_key=pl.format("src0|{}", pl.col("cust") * 2),
        source=pl.lit("src0"),
        event_type=pl.lit("order"),
        occurred_at=pl.format("2025-0{}-15", pl.col("cust") % 9 + 1),
        amount=pl.format("{}.00", pl.col("cust") % 5000 + 100),
    )
    return frame.select(
        [pl.col(c) if c in frame.columns else pl.lit(None, t).alias(c)
         for c, t in EVENT_SCHEMA.items()]
    )  # fmt: skip


def build_store(path: Path, customers: int) -> dict[str, float]:
    """Build and publish a synthetic store; return timings."""
    with Timer() as gen:
        staged, links = synthetic_staged(customers)
        events = synthetic_events(customers)
    with Timer() as build:
        tables = build_profile_tables(staged, links, events, ProfileConfig(), date(2026, 1, 1))
        tables["profiles_history"] = history_snapshot(tables["profiles"])
    run = {**dict.fromkeys(RUNS_COLUMNS), "run_id": "bench", "status": "success",
           "started_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip
    with Timer() as pub, duckdb.connect(str(path)) as con:
        publish(con, tables, run, path.parent / "published")
    return {
        "generate_seconds": round(gen.seconds, 1),
        "build_profiles_seconds": round(build.seconds, 1),
        "publish_seconds": round(pub.seconds, 1),
    }


def time_lookups(path: Path, customers: int, repeats: int) -> dict[str, float]:
    """Median and p95 milliseconds of full card lookups from one warm connection."""
    rng = random.Random(7)
    queries = []
    for _ in range(repeats):
        c = rng.randrange(customers)
        queries += [f"8 9{c + 100_000_000}", f"user{c}@mail.ru", f"C{c:015d}"]
    queries += [company_inn(rng.randrange(COMPANIES)) for _ in range(max(1, repeats // 10))]
    timings: dict[str, list[float]] = {"phone": [], "email": [], "customer_id": [], "inn": []}
    found = 0
    kinds = ["phone", "email", "customer_id"]
    with duckdb.connect(str(path), read_only=True) as con:
        for q in queries[:20]:  # warm-up
            lookup(con, q)
        for n, q in enumerate(queries):
            kind = kinds[n % 3] if n < repeats * 3 else "inn"
            start = time.perf_counter()
            cards = lookup(con, q)
            timings[kind].append((time.perf_counter() - start) * 1000)
            found += bool(cards)
    everything = [t for ts in timings.values() for t in ts]
    result = {
        "lookups": len(everything),
        "lookups_found": found,
        "median_ms": round(statistics.median(everything), 2),
        "p95_ms": round(statistics.quantiles(everything, n=20)[-1], 2),
    }
    for kind, ts in timings.items():
        if ts:
            result[f"median_ms_{kind}"] = round(statistics.median(ts), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=300, help="lookups per kind")
    parser.add_argument("--small", action="store_true", help="20,000 customers (CI mode)")
    parser.add_argument("--dir", type=Path, default=OUT / "lookup-ws")
    args = parser.parse_args()
    customers = 20_000 if args.small else args.customers
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    path = args.dir / "warehouse.duckdb"
    built = build_store(path, customers)
    timed = time_lookups(path, customers, 100 if args.small else args.repeats)
    save(
        "lookup-small" if args.small else "lookup",
        {"customers": customers, **built, **timed, "peak_rss_mb": round(peak_rss_mb(), 1)},
    )


if __name__ == "__main__":
    main()
