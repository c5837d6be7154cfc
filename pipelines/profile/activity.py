"""Activity: the events table and per-customer aggregates (orders, tickets, forms, leads, RFM).

Event times and amounts arrive as source strings; they are parsed once here (``occurred_ts``,
``amount_value``) so analysts and the aggregates agree. RFM scores are relative to the latest
order in the data, not to today, so re-running on unchanged input gives the same scores.
"""

from __future__ import annotations

import polars as pl

from pipelines.profile.common import TIME, json_field, parse_amount, parse_time, typed
from pipelines.schema import EVENT_SCHEMA

#: Ticket statuses that mean "still being worked on" (lower-cased).
OPEN_TICKET_STATUSES: tuple[str, ...] = (
    "new", "open", "pending", "hold", "on-hold", "in progress",
    "новый", "новая", "открыт", "открыта", "открытый", "в работе", "ожидает", "ожидание",
)  # fmt: skip

ACTIVITY_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "orders_count": pl.UInt32(),
    "orders_sum": pl.Float64(),
    "avg_check": pl.Float64(),
    "first_order_at": TIME,
    "second_order_at": TIME,
    "last_order_at": TIME,
    "tickets_total": pl.UInt32(),
    "tickets_open": pl.UInt32(),
    "last_ticket_at": TIME,
    "last_ticket_subject": pl.String(),
    "last_ticket_status": pl.String(),
    "form_submissions": pl.UInt32(),
    "deals_count": pl.UInt32(),
    "events_count": pl.UInt32(),
    "first_event_at": TIME,
    "last_event_at": TIME,
}


def build_events(events: pl.DataFrame | None, links: pl.DataFrame) -> pl.DataFrame:
    """One row per event with its customer (null when its record is unknown), time and amount."""
    frame = (events if events is not None else pl.DataFrame(schema=EVENT_SCHEMA)).select(
        list(EVENT_SCHEMA)
    )
    return (
        frame.with_columns(utm_source=json_field(frame.get_column("detail"), "utm_source"))
        .join(links.select("record_key", "customer_id"), on="record_key", how="left")
        .with_columns(
            occurred_ts=parse_time(pl.col("occurred_at")),
            amount_value=parse_amount(pl.col("amount")),
        )
        .select(
            "event_id",
            "customer_id",
            *[c for c in EVENT_SCHEMA if c != "event_id"],
            "occurred_ts",
            "amount_value",
            "utm_source",
        )
        .sort("event_id")
    )


def aggregate_activity(events: pl.DataFrame) -> pl.DataFrame:
    """One row per customer with events: order, ticket, form and deal aggregates."""
    c = pl.col
    order = c("event_type") == "order"
    ticket = c("event_type") == "ticket"
    order_times = c("occurred_ts").filter(order).sort()
    last_ticket = c("occurred_ts").filter(ticket).arg_max()
    by_time = events.filter(c("customer_id").is_not_null()).sort("occurred_ts", "event_id")
    agg = by_time.group_by("customer_id").agg(
        orders_count=order.sum(),
        orders_sum=c("amount_value").filter(order).sum(),
        first_order_at=order_times.first(),
        second_order_at=order_times.get(1, null_on_oob=True),
        last_order_at=order_times.last(),
        tickets_total=ticket.sum(),
        tickets_open=(
            ticket & c("status").str.to_lowercase().is_in(OPEN_TICKET_STATUSES).fill_null(False)
        ).sum(),
        last_ticket_at=c("occurred_ts").filter(ticket).max(),
        last_ticket_subject=c("subject").filter(ticket).get(last_ticket, null_on_oob=True),
        last_ticket_status=c("status").filter(ticket).get(last_ticket, null_on_oob=True),
        form_submissions=(c("event_type") == "form_submission").sum(),
        deals_count=(c("event_type") == "deal").sum(),
        events_count=pl.len(),
        first_event_at=c("occurred_ts").min(),
        last_event_at=c("occurred_ts").max(),
    )
    return agg.with_columns(
        avg_check=pl.when(c("orders_count") > 0).then(c("orders_sum") / c("orders_count")),
        orders_sum=pl.when(c("orders_count") > 0).then(c("orders_sum")),
    ).pipe(typed, ACTIVITY_SCHEMA)


def _score(goodness: pl.Expr) -> pl.Expr:
    """1–5 by quintile of ``goodness`` among customers with orders (ties share a score)."""
    n = goodness.count()
    rank = goodness.rank("min")
    return (1 + ((rank - 1) * 5 / n).floor()).cast(pl.Int8)


def rfm_scores(activity: pl.DataFrame) -> pl.DataFrame:
    """Recency–frequency–monetary scores (1 worst … 5 best) of customers with orders.

    Recency is days from the customer's last order to the latest order in the data.
    """
    buyers = activity.filter(pl.col("orders_count") > 0)
    reference = buyers.get_column("last_order_at").max()
    return (
        buyers.select(
            "customer_id",
            "orders_count",
            "orders_sum",
            recency_days=(pl.lit(reference, TIME) - pl.col("last_order_at")).dt.total_days(),
        )
        .with_columns(
            rfm_r=_score(-pl.col("recency_days")),
            rfm_f=_score(pl.col("orders_count")),
            rfm_m=_score(pl.col("orders_sum").fill_null(0.0)),
        )
        .with_columns(
            rfm=pl.concat_str([pl.col(f"rfm_{x}").cast(pl.String) for x in "rfm"]),
        )
        .drop("orders_count", "orders_sum")
    )


def lead_sources(events: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """customer_id → every utm_source seen (events and records), and the earliest one."""
    from_events = events.select("customer_id", at="occurred_ts", utm="utm_source")
    utm = json_field(frame.get_column("extra"), "utm_source")
    from_records = frame.select("customer_id", at="record_at", utm=utm)
    seen = (
        pl.concat([from_events, from_records])
        .drop_nulls(["customer_id", "utm"])
        .with_columns(pl.col("utm").str.strip_chars().str.to_lowercase())
        .sort("customer_id", "at", "utm", nulls_last=True)
    )
    return seen.group_by("customer_id", maintain_order=True).agg(
        lead_sources=pl.col("utm").unique().sort(), first_lead_source=pl.col("utm").first()
    )
