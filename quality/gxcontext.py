"""The Great Expectations runtime: a lazy, quiet import and one ephemeral context per docs site.

GX costs about 2 s to import, so nothing imports it at module level; a run that will check
can start the import in a background thread (``preload``) while its own thread waits for
worker processes. Each context keeps the builder of its docs site: GX's ``build_data_docs``
makes a new one per call, and with it a new Jinja environment that compiles every page
template again (most of a layer's docs cost).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_CONTEXTS: dict[str, Any] = {}
_SITES: dict[int, Any] = {}  # id(context) -> its docs site builder (contexts stay in _CONTEXTS)
SITE = "svod"
#: What the checks import from GX, warmed by ``preload``.
GX_MODULES = (
    "great_expectations",
    "great_expectations.expectations",
    "great_expectations.expectations.row_conditions",
    "great_expectations.data_context.types.base",
    "great_expectations.data_context.types.resource_identifiers",
)
#: The only warnings GX's import gives: stdlib modules it imports are deprecated.
_DEPRECATED_STDLIB = ("sre_constants", "sre_parse", "sre_compile")
_preloading: list[threading.Thread] = []


def preload() -> threading.Thread | None:
    """Start importing GX in a daemon thread; ``gx_modules`` waits for it. None: nothing to do.

    Meant for a process whose own thread is about to wait (on worker processes): the import
    then runs beside the wait instead of after it. The deprecated stdlib modules GX imports are
    imported here, quietly, so the thread needs no ``warnings.catch_warnings`` (which swaps
    the process-wide filters and is not thread-safe; the filters GX itself adds on import stay,
    as they would after any import). A failed preload is only logged: the checks import GX
    again and report what fails.
    """
    if _preloading and _preloading[-1].is_alive():
        return None
    if all(name in sys.modules for name in GX_MODULES):
        return None
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _DEPRECATED_STDLIB:
            importlib.import_module(name)
    thread = threading.Thread(target=_import_gx, name="svod-gx-preload", daemon=True)
    _preloading.append(thread)
    thread.start()
    return thread


def _import_gx() -> None:
    # GX's ~100k objects live as long as the process: no collection walks them while they are
    # made (~0.5 s of full collections otherwise), and they are then taken out of the cyclic
    # collector's sight for the rest of the run (see ``pipelines.cli.run``)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name in GX_MODULES:
            importlib.import_module(name)
        gc.collect()  # the import's own garbage first: frozen, it would stay (~200 MB at 1M)
        gc.freeze()
    except Exception as exc:  # the checks import GX again, in their own thread, and say why
        log.warning("Great Expectations could not be preloaded: %s", exc)
    finally:
        if collecting:
            gc.enable()


def wait_for_preload() -> None:
    """Until a started preload has finished (at once if none was started)."""
    while _preloading:
        try:
            thread = _preloading.pop()
        except IndexError:  # another thread took it (and waits for it)
            break
        thread.join()


def gx_modules() -> tuple[Any, Any, Any]:
    """Import GX quietly (its import warns about deprecated stdlib modules)."""
    wait_for_preload()
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
        ctx.add_data_docs_site(site_name=SITE, site_config=site)
    if len(_CONTEXTS) > 8:  # a long-lived process (dagster dev) keeps only recent runs
        _CONTEXTS.clear()
        _SITES.clear()
    _CONTEXTS[key] = ctx
    return ctx


def _site_builder(ctx: Any) -> Any:
    """The context's docs site builder, made once (as ``build_data_docs`` makes it), or None
    when this GX version has no such hook (then every build makes its own)."""
    if id(ctx) in _SITES:
        return _SITES[id(ctx)]
    make = getattr(ctx, "_init_site_builder_for_data_docs_site_creation", None)
    config = ctx.variables.data_docs_sites.get(SITE)
    builder = make(site_name=SITE, site_config=config) if make and config else None
    _SITES[id(ctx)] = builder
    return builder


def build_docs(ctx: Any, outcomes: Sequence[Any]) -> None:
    """One docs build (pages and index) for every validation of a layer."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    found: list[Any] = []
    for outcome in outcomes:
        for key, validation in outcome.run_results.items():
            found += [key, ExpectationSuiteIdentifier(name=validation.suite_name)]
    if not found:
        return
    builder = _site_builder(ctx)
    if builder is None:
        ctx.build_data_docs(site_names=[SITE], resource_identifiers=found)
    else:  # what build_data_docs does for the site, with the builder (and templates) kept
        builder.build(found, build_index=True)
