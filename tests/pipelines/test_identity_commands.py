"""`svod resolve` on a plain table and `svod explain` on a published workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()
PEOPLE_CSV = """first_name,surname,dob,city,email
Robert,Allen,1971-06-24,London,roberta25@smith.net
Rob,Allen,1971-06-24,London,roberta25@smith.net
Robert,Alen,1971-05-24,Lonon,
Julia,Taylor,2015-10-29,London,hannah88@powers.com
Julia,Taylor,2015-07-31,,hannah88@powers.com
Noah,Watson,2008-03-23,Bolton,matthew78@ballard.com
"""


def test_resolve_a_plain_table_to_record_customer_pairs(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(PEOPLE_CSV, encoding="utf-8")
    out = tmp_path / "out" / "links.csv"
    result = runner.invoke(app, ["resolve", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 records" in result.output
    links = pl.read_csv(out)
    assert links.columns[:2] == ["record_key", "customer_id"]
    by_row = dict(zip(links["source_row"], links["customer_id"], strict=True))
    assert by_row[2] == by_row[3]  # Robert / Rob Allen, one mailbox
    assert by_row[5] == by_row[6] != by_row[2]
    assert by_row[7] not in {by_row[2], by_row[5]}


def test_resolve_refuses_an_unknown_output_format(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(PEOPLE_CSV, encoding="utf-8")
    result = runner.invoke(app, ["resolve", str(source), "--output", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert "write a .csv or .parquet file name" in result.output


def test_explain_shows_links_and_near_misses(workspace: Path) -> None:
    assert runner.invoke(app, ["run", "-w", str(workspace)]).exit_code == 0
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        cid, key = con.sql(
            "SELECT customer_id, min(record_key) FROM record_links GROUP BY 1 "
            "HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
        ).fetchall()[0]
        phone = con.sql(
            "SELECT value FROM identifiers WHERE type = 'phone' AND customer_id = ? LIMIT 1",
            params=[cid],
        ).fetchall()
    for query in (cid, key, *(p[0] for p in phone)):
        result = runner.invoke(
            app, ["explain", query, "-w", str(workspace)], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 0, result.output
        assert f"Customer {cid}" in result.output
        assert "Why they are one" in result.output
    missing = runner.invoke(app, ["explain", "nobody@nowhere.example", "-w", str(workspace)])
    assert missing.exit_code == 1
    assert "nothing found" in missing.output
