"""Write a complete sample inbox plus its truth: the entry point for demos and tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pipelines.sample.b2b_sheet import write_petrov
from pipelines.sample.commerceml import write_1c
from pipelines.sample.companies import Company
from pipelines.sample.people import iter_people
from pipelines.sample.plan import plan_records
from pipelines.sample.sales import write_ivanova, write_leads
from pipelines.sample.truth import TruthRow, TruthWriter
from pipelines.sample.webjson import write_forms, write_tickets

IVANOVA = "sales/manager_ivanova.xlsx"
PETROV = "sales/manager_petrov.xlsx"
LEADS = "sales/leads_2025.csv"
ONE_C = "1c/orders_commerceml.xml"
FORMS = "forms/site_forms.json"
TICKETS = "tickets/helpdesk_export.json"
FILES: tuple[str, ...] = (IVANOVA, PETROV, LEADS, ONE_C, FORMS, TICKETS)
TRUTH = "truth/records.csv"


@dataclass(frozen=True)
class SampleSummary:
    """What was written: entity counts, contact records (junk included) and inbox files."""

    people: int
    companies: int
    records: int
    files: list[str]  # posix paths relative to <workspace>/inbox


def write_sample_inbox(workspace: Path, people: int = 3000, seed: int = 42) -> SampleSummary:
    """Generate the population and write every source file and the truth; same seed, same bytes."""
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    population = list(iter_people(people, seed))
    companies: dict[str, Company] = {}
    for person in population:
        if person.company is not None:
            companies.setdefault(person.company.kid, person.company)
    ordered = [companies[kid] for kid in sorted(companies)]
    plan = plan_records(population, random.Random(f"svod-plan:{seed}"))
    inbox = workspace / "inbox"

    def rng(name: str) -> random.Random:  # one stream per file: editing one keeps the others
        return random.Random(f"svod-file:{seed}:{name}")

    truths: list[TruthRow] = []
    truths += write_ivanova(inbox / IVANOVA, IVANOVA, plan["ivanova"], rng(IVANOVA))
    truths += write_petrov(inbox / PETROV, PETROV, plan["petrov"], rng(PETROV))
    truths += write_leads(inbox / LEADS, LEADS, plan["leads"], rng(LEADS))
    truths += write_1c(inbox / ONE_C, ONE_C, plan["1c"], ordered, rng(ONE_C), seed)
    truths += write_forms(inbox / FORMS, FORMS, plan["forms"], rng(FORMS))
    truths += write_tickets(inbox / TICKETS, TICKETS, plan["tickets"], rng(TICKETS))
    with TruthWriter(workspace / TRUTH) as out:
        out.write_all(truths)
    return SampleSummary(len(population), len(ordered), len(truths), list(FILES))
