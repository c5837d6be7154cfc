"""Deterministic, seeded generator of realistic, messy Russian customer data with a truth file."""

from pipelines.sample.people import Person, iter_people
from pipelines.sample.scaled import (
    write_benchmark_commerceml,
    write_benchmark_csv,
    write_benchmark_xlsx,
)
from pipelines.sample.workspace import SampleSummary, write_sample_inbox

__all__ = [
    "Person",
    "SampleSummary",
    "iter_people",
    "write_benchmark_commerceml",
    "write_benchmark_csv",
    "write_benchmark_xlsx",
    "write_sample_inbox",
]
