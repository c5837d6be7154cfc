"""Resources of the code location (kept alone here: a Definitions object hides module assets)."""

from __future__ import annotations

import dagster as dg

from dagster_project.resources import build_resources
from pipelines.workspace import default_workspace_path


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources(default_workspace_path()))
