"""Where a lakehouse's data ends, the day a view anchors on, and why a result is empty.

Imported exports end whenever the export ended, often months ago; the demo
ends yesterday. Views anchor "month to date", "last 24 h" and the default
billing period on the data's own end, never on a calendar day with no data,
and say so. An empty result says which of three things it is: nobody has
data there (the lakehouse ends before it), the role's row filter may hide
rows others see, or there truly is nothing.
"""

from __future__ import annotations

import datetime as dt

STALE_AFTER_DAYS = 2  # data ending before the day before yesterday is worth a sentence


def anchor_day(today: dt.date, last_day: dt.date | None) -> dt.date:
    """The last day a view shows: the data's last day, never after yesterday (today is incomplete)."""
    yesterday = today - dt.timedelta(days=1)
    return min(last_day, yesterday) if last_day is not None else yesterday


def anchor_period(this_month: str, latest_partition: str | None) -> str:
    """The billing period to open: this month, or the newest partition when the data ends earlier."""
    return min(this_month, latest_partition) if latest_partition else this_month


def minute_after(t: dt.datetime) -> dt.datetime:
    """The next whole minute after `t`: a range ending there includes `t`, and the same minute gives the same
    query (a cache hit), where a "now" to the second never would."""
    return t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def data_end_note(today: dt.date, last_day: dt.date | None) -> str | None:
    """'Data ends 2024-09-30 (797 days ago); figures are as of that day.' when the data is old, else None."""
    if last_day is None:
        return None
    age = (today - last_day).days
    if age <= STALE_AFTER_DAYS:
        return None
    return f"Data ends {last_day:%Y-%m-%d} ({age:,} days ago); figures are as of that day."


def empty_result_message(nothing: str, *, data_ends: str | None, asked_from: str | None, role: str,
                         row_filtered: bool) -> str:
    """Why `nothing` (e.g. 'No cost between 2026-01-01 and 2026-01-31') came back empty, in one sentence.

    `data_ends` is the newest partition or day the lakehouse holds (metadata, seen by no role in
    particular), `asked_from` the start of what was asked in the same format, `row_filtered`
    whether the role's grant filters rows of the table.
    """
    if data_ends is None:
        return f"{nothing}: the lakehouse holds no data here yet, for anyone. Import an export or build the demo."
    if asked_from is not None and asked_from > data_ends:
        return f"{nothing}: the data ends {data_ends}, for everyone. Choose an earlier range."
    if row_filtered:
        return (f"{nothing} that your role (`{role}`) may see: its grant shows only some rows, so others may see "
                "data here. Ask the data platform team if you need it.")
    return f"{nothing}: there is none (your role sees every row of this table)."


def manifest_time(value: object) -> str:
    """A manifest's ISO 8601 time ("2026-12-06T09:31:54Z") as the app writes times: 2026-12-06 09:31 UTC.
    Text that is not such a time is returned as it is ("?" for none)."""
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value) if value else "?"
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


def refresh_note(manifest: dict, table: str) -> str | None:
    """When `table` ('daivi_cur.cur') was last built or refreshed, and from where, from the lakehouse manifest."""
    refreshed = manifest.get("refreshed", {}).get(table)
    if refreshed:
        return f"Last refreshed {manifest_time(refreshed.get('at'))} from {refreshed.get('origin') or 'local files'}"
    if manifest.get("kind") == "demo" or "scale" in manifest:
        return f"Demo data generated {manifest_time(manifest.get('generated_at'))}"
    if manifest.get("kind") == "import":
        sources = manifest.get("sources") or []
        more = f" and {len(sources) - 2} more" if len(sources) > 2 else ""
        return f"Imported {manifest_time(manifest.get('generated_at'))} from {', '.join(sources[:2]) or 'local files'}{more}"
    return None


def rows_without_account(manifest: dict, table: str) -> int:
    """Rows of `table` the last import found without an account id: no account row filter lets them through."""
    refreshed = manifest.get("refreshed", {}).get(table)
    if refreshed is not None:
        return int(refreshed.get("rows_without_account", 0))
    return int(manifest.get("report", {}).get("rows_without_account", {}).get(table, 0))


def line_items_per_period(period_totals) -> dict[str, int]:
    """{billing period: line items} from `cur.period_totals` rows (one per period and currency: counts add, money does not)."""
    return {str(p): int(n) for p, n in period_totals.groupby("billing_period")["line_items"].sum().items()}
