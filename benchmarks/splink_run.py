"""Splink 5 on a flat person table — runs ONLY inside the Splink venv; never imported by Svod.

    benchmarks/out/splink-venv/bin/python benchmarks/splink_run.py IN.parquet OUT.parquet [SPILL]

Configured as Splink's README quickstart does for person data (fake_1000 / fake_20000):
NameComparison(first_name), JaroAtThresholds(surname), DateOfBirthComparison(dob),
ExactMatch(city) with term frequencies, EmailComparison(email); λ from deterministic rules
(recall 0.7), u by random sampling (1e6 pairs), m by EM on two blocking sessions; predictions
clustered with connected components at match probability 0.95 (the README's value). When the
table has a ``phone`` column (our generated data) it is compared exactly with term frequencies
and used for blocking, as Splink's docs do for any strong identifier. Writes (unique_id,
cluster_id) for every input record.

On this shared machine DuckDB is capped (``SPLINK_MEMORY_LIMIT``, default 8GB) and spills to
disk beyond it (in SPILL, which the caller deletes — a run stopped by its timeout cannot
clean up after itself), so a large run slows down instead of taking the machine's memory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

THRESHOLD = 0.95


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    table = pq.read_table(source)
    has_phone = "phone" in table.column_names
    limit = os.environ.get("SPLINK_MEMORY_LIMIT", "8GB")
    spill = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="splink-")
    con = duckdb.connect(config={"memory_limit": limit, "temp_directory": spill})
    db_api = DuckDBAPI(connection=con)
    df = db_api.register(table, dataset_display_name="records")
    comparisons = [
        cl.NameComparison("first_name"),
        cl.JaroAtThresholds("surname"),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        cl.EmailComparison("email"),
    ]
    blocking = [
        block_on("first_name", "dob"),
        block_on("surname", "dob"),
        block_on("email"),
    ]
    if has_phone:
        comparisons.append(cl.ExactMatch("phone").configure(term_frequency_adjustments=True))
        blocking += [block_on("phone"), block_on("surname", "first_name", "city")]
    else:  # the README's rule for fake_1000 / fake_20000
        blocking.append(block_on("surname"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
    )
    linker = Linker(df, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("email")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    out = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").to_arrow_table()
    pq.write_table(
        out.cast(pa.schema([("unique_id", pa.string()), ("cluster_id", pa.string())])), target
    )
    print(json.dumps({"seconds": time.perf_counter() - started, "records": table.num_rows}))


if __name__ == "__main__":
    main()
