"""The Great Expectations runtime: a lazy, quiet import and one ephemeral context per docs site.

GX costs about 2 s to import, so nothing imports it at module level.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_CONTEXTS: dict[str, Any] = {}


def gx_modules() -> tuple[Any, Any, Any]:
    """Import GX quietly (its import warns about deprecated stdlib modules)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.expectations.row_conditions import Column
    return gx, gxe, Column


def context_for(docs_dir: Path | None) -> Any:
    """One ephemeral context per docs folder: every layer of a run lands in one docs site."""
    key = str(docs_dir) if docs_dir else ""
    if key in _CONTEXTS:
        return _CONTEXTS[key]
    gx, _, _ = gx_modules()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        site = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        ctx.add_data_docs_site(site_name="svod", site_config=site)
    if len(_CONTEXTS) > 8:  # a long-lived process (dagster dev) keeps only recent runs
        _CONTEXTS.clear()
    _CONTEXTS[key] = ctx
    return ctx


def build_docs(ctx: Any, outcomes: Sequence[Any]) -> None:
    """One docs build (pages and index) for every validation of a layer."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    found: list[Any] = []
    for outcome in outcomes:
        for key, validation in outcome.run_results.items():
            found += [key, ExpectationSuiteIdentifier(name=validation.suite_name)]
    if found:
        ctx.build_data_docs(site_names=["svod"], resource_identifiers=found)
