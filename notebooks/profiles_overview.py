# %% [markdown]
# # Svod profile store: duplicates, source overlap and a segment
#
# Runs as a plain script (`python notebooks/profiles_overview.py`) or cell by cell in any
# editor that knows the percent format. It reads the published tables of the workspace in
# `$SVOD_WORKSPACE` (default `data/`) and writes its plots to `$SVOD_NOTEBOOK_OUT`
# (default `notebooks/out/`). Only IDs and counts are printed, never names or contacts.

# %%
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # files, not windows: this runs in CI
import matplotlib.pyplot as plt

WORKSPACE = Path(os.environ.get("SVOD_WORKSPACE", "data"))
OUT = Path(os.environ.get("SVOD_NOTEBOOK_OUT", "notebooks/out"))
OUT.mkdir(parents=True, exist_ok=True)
con = duckdb.connect(str(WORKSPACE / "warehouse.duckdb"), read_only=True)

# %% [markdown]
# ## Duplicates found per source
# A source's *duplicates* are its records that share a customer with another record of the
# same source; *also elsewhere* counts its customers that other sources know too.

# %%
per_source = con.sql(
    """
    WITH l AS (SELECT source, customer_id FROM record_links),
    c AS (SELECT customer_id, count(DISTINCT source) AS n_sources FROM l GROUP BY customer_id)
    SELECT l.source,
           count(*) AS records,
           count(DISTINCT l.customer_id) AS customers,
           count(*) - count(DISTINCT l.customer_id) AS duplicates,
           count(DISTINCT l.customer_id) FILTER (WHERE c.n_sources > 1) AS also_elsewhere
    FROM l JOIN c USING (customer_id)
    GROUP BY l.source ORDER BY l.source
    """
).pl()
print(per_source)

fig, ax = plt.subplots(figsize=(7, 4))
x = range(per_source.height)
ax.bar([i - 0.2 for i in x], per_source["duplicates"], width=0.4, label="duplicates in source")
ax.bar([i + 0.2 for i in x], per_source["also_elsewhere"], width=0.4, label="also in other sources")
ax.set_xticks(list(x), per_source["source"].to_list())
ax.set_title("Duplicates found per source")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "duplicates_per_source.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## Customers by source overlap
# How many customers each combination of sources holds.

# %%
overlap = con.sql(
    """
    SELECT array_to_string(sources, ' + ') AS sources, count(*) AS customers
    FROM profiles GROUP BY 1 ORDER BY customers DESC, sources
    """
).pl()
print(overlap)

fig, ax = plt.subplots(figsize=(8, max(3, 0.35 * overlap.height)))
ax.barh(overlap["sources"].to_list()[::-1], overlap["customers"].to_list()[::-1])
ax.set_title("Customers by source combination")
fig.tight_layout()
fig.savefig(OUT / "source_overlap.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## A segment: recent B2C buyers who may be e-mailed
# B2C, at least one order, recency score ≥ 3, a valid e-mail, and no e-mail opt-out anywhere.

# %%
segment = con.sql(
    """
    SELECT customer_id, age_band, business_unit, orders_count, orders_sum, rfm, consent_email
    FROM profiles
    WHERE customer_type = 'B2C' AND orders_count > 0 AND rfm_r >= 3
      AND email IS NOT NULL AND coalesce(consent_email, '') <> 'opt_out'
    ORDER BY orders_sum DESC NULLS LAST, customer_id
    """
).pl()
print(f"segment size: {segment.height}")
print(segment.head(10))

bands = con.sql(
    """
    SELECT coalesce(age_band, 'unknown') AS age_band, customer_type, count(*) AS customers
    FROM profiles WHERE entity_kind = 'person' GROUP BY ALL ORDER BY age_band, customer_type
    """
).pl()
fig, ax = plt.subplots(figsize=(7, 4))
for offset, kind in ((-0.2, "B2C"), (0.2, "B2B")):
    part = bands.filter(bands["customer_type"] == kind)
    labels = sorted(set(bands["age_band"].to_list()))
    counts = dict(zip(part["age_band"].to_list(), part["customers"].to_list(), strict=True))
    ax.bar([i + offset for i in range(len(labels))], [counts.get(b, 0) for b in labels],
           width=0.4, label=kind)  # fmt: skip
    ax.set_xticks(list(range(len(labels))), labels)
ax.set_title("People by age band")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "age_bands.png", dpi=100)
plt.close(fig)

con.close()
print(f"plots written to {OUT}")
