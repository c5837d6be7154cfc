"""Compatibility shim: the profile tables now live in the ``pipelines.profile`` package."""

from __future__ import annotations

from pipelines.profile.activity import build_events
from pipelines.profile.build import build_profile_tables, record_links

__all__ = ["build_events", "build_profile_tables", "record_links"]
