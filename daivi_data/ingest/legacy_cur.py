"""Legacy CUR -> daivi_cur.cur.

Two shapes of the same report:
- CSV (often .csv.gz) with `category/Name` headers: `identity/LineItemId`,
  `lineItem/UsageAccountId`, `lineItem/UnblendedCost`, `resourceTags/user:team`, ...
- the Athena integration's Parquet under `year=YYYY/month=M/`, whose columns
  are those headers converted the way Athena does it (`line_item_usage_account_id`,
  `reservation_reservation_a_r_n`) and whose tags are one column per key
  (`resource_tags_user_team`).

Both are renamed to CUR 2.0 names and projected by `cur2.cur_projection`.
"""

from __future__ import annotations

import re

from daivi_data.ingest import cur2
from daivi_data.ingest._sql import columns_map_to_tags, sanitize_tag_key

PERIOD_FROM_PATH = (
    r"CASE WHEN regexp_matches(filename, 'year=\d{4}/month=\d{1,2}(/|$)') "
    r"THEN regexp_extract(filename, 'year=(\d{4})/', 1) || '-' || lpad(regexp_extract(filename, 'month=(\d{1,2})(/|$)', 1), 2, '0') "
    r"WHEN regexp_matches(filename, '\d{6}01-\d{8}') "
    r"THEN regexp_extract(filename, '(\d{4})(\d{2})01-\d{8}', 1) || '-' || regexp_extract(filename, '(\d{4})(\d{2})01-\d{8}', 2) END"
)


def _snake(word: str) -> str:
    """Athena's conversion of a CUR header part: every capital letter starts a new word."""
    return re.sub(r"([A-Z])", r"_\1", word).lower().lstrip("_")


def snake_header(header: str) -> str:
    """`lineItem/UnblendedCost` -> `line_item_unblended_cost`; `reservation/ReservationARN` -> `reservation_reservation_a_r_n`."""
    if "/" not in header:
        return header
    category, name = header.split("/", 1)
    return f"{_snake(category)}_{_snake(name)}"


def tag_columns(columns: list[str]) -> dict[str, str]:
    """{resource_tags map key: source column} for `resourceTags/user:team` or `resource_tags_user_team` columns."""
    tags: dict[str, str] = {}
    for c in columns:
        if c.startswith("resourceTags/"):
            key = sanitize_tag_key(c.split("/", 1)[1])
        elif c.startswith("resource_tags_"):
            key = c[len("resource_tags_"):]
        else:
            continue
        if key and key not in tags:
            tags[key] = c
    return tags


def renamed_columns(types: dict[str, str]) -> dict[str, tuple[str, str]]:
    """catalog column -> (source column, type) for the columns the catalog knows."""
    names = set(cur2.CUR_TABLE.column_names)
    source: dict[str, tuple[str, str]] = {}
    for c, t in types.items():
        snake = snake_header(c)
        if snake in names and snake not in source:
            source[snake] = (c, t)
    return source


def missing_required(types: dict[str, str], billing_period_known: bool) -> list[str]:
    available = set(renamed_columns(types))
    missing = cur2.missing_required(available, billing_period_known)
    # Name them as the user's file spells them.
    legacy = {
        "line_item_usage_account_id": "lineItem/UsageAccountId",
        "line_item_line_item_type": "lineItem/LineItemType",
        "line_item_usage_start_date": "lineItem/UsageStartDate",
        "line_item_product_code": "lineItem/ProductCode",
        "line_item_unblended_cost": "lineItem/UnblendedCost",
        "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    }
    slashed = any("/" in c for c in types)
    return [legacy.get(m, m) if slashed else m for m in missing]


def build_select(reader: str, types: dict[str, str]) -> str:
    source = renamed_columns(types)
    return cur2.cur_projection(reader, source, columns_map_to_tags(tag_columns(list(types))), PERIOD_FROM_PATH)
