"""Great Expectations imported ahead in a background thread: the checks wait for it, a fresh
process gets it without a warning (warnings are errors here), and a failed preload is only
logged — the checks then import GX themselves."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from quality import gxcontext

_FRESH = """
import sys, warnings
warnings.simplefilter("error")
from quality import gxcontext
thread = gxcontext.preload()
assert thread is not None and thread.daemon
gxcontext.gx_modules()  # waits for the thread
assert not thread.is_alive()
assert all(name in sys.modules for name in gxcontext.GX_MODULES)
assert gxcontext.preload() is None  # nothing left to import
print("ok")
"""


def test_a_fresh_process_preloads_gx_in_a_thread_without_warnings() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FRESH], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_failed_preload_is_logged_and_the_checks_still_get_gx(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gxcontext, "GX_MODULES", (*gxcontext.GX_MODULES, "svod_no_such_module"))
    with caplog.at_level(logging.WARNING, logger="quality.gxcontext"):
        thread = gxcontext.preload()
        assert thread is not None
        gxcontext.wait_for_preload()
    assert "could not be preloaded" in caplog.text
    assert "svod_no_such_module" in caplog.text
    gx, gxe, _column = gxcontext.gx_modules()
    assert gx.__name__ == "great_expectations" and hasattr(gxe, "ExpectColumnValuesToNotBeNull")


def test_waiting_without_a_preload_returns_at_once() -> None:
    gxcontext.wait_for_preload()
    gxcontext.wait_for_preload()
