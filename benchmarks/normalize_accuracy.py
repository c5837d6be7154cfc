"""Accuracy of the normalisers against the generator's truth (see pipelines/sample/truth.py).

Every figure is a share of records, over the records where the comparison means something:

- **phones**: records whose phone cell is non-empty or whose truth lists a phone. Correct when
  the normalised E.164 list equals ``true_phones`` exactly (same numbers, same order). Garbage
  and truncated cells have an empty truth, so dropping them is correct and keeping one is not.
- **emails**: records whose e-mail cell is non-empty or whose truth lists one. Each normalised
  address has its domain typo corrected (``mail.ry`` → ``mail.ru``, the correction the match key
  applies; aliases such as ``ya.ru`` and plus-tags are *not* applied) and the list must equal
  ``true_emails``. Local-part typos are in the truth as typed, so they count as they should.
- **name parts** (persons only, where the truth has the part): surname, canonical first name and
  patronymic compared case-folded and ё-folded. A part the input gives only as an initial
  ("Иванов И.И.") is compared as that initial. A Latin-script part (input "Ivan Ivanov") is
  compared by its transliteration match key (`latin_surname_key` for surnames, which also
  drops the feminine ending; `latin_key` otherwise), since the Cyrillic spelling cannot be
  recovered from it. The first name is correct when ``first_name_canonical`` equals the truth; an
  ambiguous pet name left unresolved ("Саша" with no gender evidence) is *wrong* in the strict
  figure and counted separately as ``first_ambiguous_contains_truth``. Surnames the generator
  misspelt on purpose (noise ``name_typo``) are left out: the truth keeps the real spelling.
- **names_all**: all of a person record's scored parts correct at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from identity.normalize.emails import canonical_domain
from identity.normalize.name_text import fold, is_latin, latin_key, latin_surname_key

NAME_PARTS = (("last", "last_name"), ("first", "first_name"), ("middle", "middle_name"))


def _corrected(emails: list[str]) -> str:
    out = []
    for email in emails:
        local, _, domain = email.rpartition("@")
        fixed, typo = canonical_domain(domain)
        out.append(f"{local}@{fixed}" if typo else email)
    return ";".join(out)


def _same(ours: str | None, truth: str, part: str) -> bool:
    if ours is None:
        return False
    if is_latin(ours):
        key = latin_surname_key if part == "last" else latin_key
        return key(ours) == key(truth)
    return fold(ours) == fold(truth)


def _name_checks(row: dict[str, Any]) -> dict[str, bool | None]:
    """Per part: True/False when scored, None when the truth has no such part or it is noise."""
    out: dict[str, bool | None] = {}
    noise = set((row["noise"] or "").split(";"))
    for part, column in NAME_PARTS:
        truth = row[f"true_{part}_name"]
        if row["entity_kind"] != "person" or not truth or (part == "last" and "name_typo" in noise):
            out[part] = None
            continue
        ours = row["first_name_canonical"] if part == "first" else row[column]
        initial = row.get(f"{part}_initial")
        if part == "first" and ours is None and row["first_name"] and is_latin(row["first_name"]):
            ours = row["first_name"]
        if ours is None and initial and part != "last" and not row[column]:
            out[part] = fold(initial) == fold(truth[:1])
        else:
            out[part] = _same(ours, truth, part)
    return out


#: Staged columns the scoring reads (plus the raw cells ``phone``, ``email``, ``full_name``).
SCORED = (
    "phones",
    "emails",
    "last_name",
    "first_name",
    "middle_name",
    "first_initial",
    "middle_initial",
    "first_name_canonical",
    "first_name_alternatives",
)


def score_accuracy(joined: pl.DataFrame) -> dict[str, Any]:
    """Shares of correct records; ``joined`` is staged columns + raw cells + truth columns."""
    rows = joined.with_columns(
        phones_out=pl.col("phones").list.join(";"),
        emails_out=pl.col("emails").map_elements(_corrected, return_dtype=pl.String),
    ).to_dicts()
    tallies: dict[str, list[int]] = {}
    failures: dict[str, list[str]] = {}

    def tally(name: str, ok: bool, example: str) -> None:
        hit = tallies.setdefault(name, [0, 0])
        hit[0] += ok
        hit[1] += 1
        if not ok and len(failures.setdefault(name, [])) < 8:
            failures[name].append(example)

    for row in rows:
        if row["entity_kind"] == "junk":
            continue
        true_phones, true_emails = row["true_phones"] or "", row["true_emails"] or ""
        if (row["phone"] or "").strip() or true_phones:
            tally(
                "phones",
                row["phones_out"] == true_phones,
                f"{row['phone']!r} → {row['phones_out']!r} ≠ {true_phones!r}",
            )
        if (row["email"] or "").strip() or true_emails:
            tally(
                "emails",
                row["emails_out"] == true_emails,
                f"{row['email']!r} → {row['emails_out']!r} ≠ {true_emails!r}",
            )
        checks = _name_checks(row)
        shown = f"{row['full_name']!r} → {row['last_name']}|{row['first_name_canonical']}|"
        shown += f"{row['middle_name']} ≠ {row['true_last_name']}|{row['true_first_name']}|"
        shown += f"{row['true_middle_name']} ({row['noise']})"
        for part, ok in checks.items():
            if ok is not None:
                tally(part, ok, shown)
        if checks["first"] is False and row["first_name_canonical"] is None:
            alts = row["first_name_alternatives"] or []
            tally("first_ambiguous_contains_truth", row["true_first_name"] in alts, shown)
        scored = [ok for ok in checks.values() if ok is not None]
        if scored:
            tally("names_all", all(scored), shown)
    return {
        "records": len(rows),
        **{
            name: {"share": round(ok / n, 5), "correct": ok, "scored": n}
            for name, (ok, n) in tallies.items()
        },
        "failure_examples": failures,
    }


def workspace_accuracy(root: Path, people: int) -> dict[str, Any]:
    """Write a sample workspace, read it through the real connectors, normalise, score."""
    from pipelines.ingest import ingest
    from pipelines.rawlake import load_raw
    from pipelines.sample import write_sample_inbox
    from pipelines.staging import normalize_records
    from pipelines.workspace import Workspace, write_sample_config

    write_sample_config(root)
    write_sample_inbox(root, people=people, seed=42)
    ws = Workspace.open(root)
    ingest(ws)
    raw, _ = load_raw(ws)
    staged = pl.concat(
        [
            normalize_records(raw).select(SCORED),
            raw.select(
                "phone",
                "email",
                full_name=pl.coalesce(
                    "full_name", pl.concat_str("last_name", "first_name", separator=" ")
                ),
                file="source_file",
                sheet=pl.col("source_sheet").fill_null(""),
                row=pl.col("source_row").cast(pl.String),
                native_id="source_record_id",
            ),
        ],
        how="horizontal",
    )
    truth = pl.read_csv(root / "truth" / "records.csv", infer_schema=False).with_columns(
        sheet=pl.col("sheet").fill_null("")
    )
    by_row = staged.join(
        truth.filter(pl.col("row").is_not_null()).drop("native_id"), on=["file", "sheet", "row"]
    )
    by_id = staged.join(
        truth.filter(pl.col("native_id").is_not_null()).drop("sheet", "row"),
        on=["file", "native_id"],
    )
    both = pl.concat([by_row, by_id.select(by_row.columns)])
    result = score_accuracy(both)
    result["truth_records"] = truth.height
    result["staged_records_matched_to_truth"] = both.height
    return result
