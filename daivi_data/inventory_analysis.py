"""Inventory analysis in pure pandas: tag search parsing, snapshot diffs, tag compliance, waste rules.

The inventory view's queries return compact rows (one per resource and
snapshot); everything here turns them into what the page shows. No Streamlit,
no SQL: each function takes DataFrames (or text) and returns DataFrames (or
typed values), so it is unit-tested without data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from daivi_data.errors import InvalidRequest
from daivi_data.inventory_terms import (  # noqa: F401  also this module's public names, as before
    EBS_SNAPSHOT,
    EBS_VOLUME,
    EC2_INSTANCE,
    ELASTIC_IP,
    INSTANCE_TYPES,
    OLD_SNAPSHOT_DAYS,
    PREVIOUS_GENERATION_FAMILIES,
    RDS_INSTANCE,
    TAG_EQUALS,
    TAG_EXISTS,
    TAG_MISSING,
    TAG_NOT_EQUALS,
    TagCondition,
    old_snapshot_cutoff,
)

# --- tag search -------------------------------------------------------------------------------

MAX_TAG_CONDITIONS = 10
MAX_SEARCH_TEXT_CHARS = 200
# AWS allows letters, digits, spaces and _ . : / = + - @ in tag keys; we accept anything printable
# but keep keys short, as AWS does (128 characters).
MAX_TAG_KEY_CHARS = 128

def parse_tag_search(text: str) -> tuple[TagCondition, ...]:
    """Tag conditions from a comma-separated search such as `team=payments, !cost-center, owner`.

    Values are compared case-insensitively, keys exactly (AWS tag keys are case
    sensitive). Every character is literal: `%`, `_`, `*`, `'` are matched as
    themselves because the conditions are bound as values, never as patterns.
    """
    conditions: list[TagCondition] = []
    for raw in (text or "").split(","):
        part = raw.strip()
        if not part:
            continue
        if "!=" in part:
            key, value = part.split("!=", 1)
            op = TAG_NOT_EQUALS
        elif "=" in part:
            key, value = part.split("=", 1)
            op = TAG_EQUALS
        elif part.startswith("!"):
            key, value, op = part[1:], "", TAG_MISSING
        else:
            key, value, op = part, "", TAG_EXISTS
        key, value = key.strip(), value.strip()
        if not key:
            raise InvalidRequest(f"Tag filter {part!r} has no tag key. Use key=value, key!=value, key (exists) or !key (missing).")
        if len(key) > MAX_TAG_KEY_CHARS:
            raise InvalidRequest(f"Tag key in {part[:40]!r}… is longer than {MAX_TAG_KEY_CHARS} characters.")
        conditions.append(TagCondition(key=key, op=op, value=value))
    if len(conditions) > MAX_TAG_CONDITIONS:
        raise InvalidRequest(f"At most {MAX_TAG_CONDITIONS} tag filters at once (got {len(conditions)}).")
    return tuple(conditions)


def normalize_search_text(text: str) -> str:
    """The id/name/ARN fragment to look for: trimmed, lower-cased, length-checked (matched literally)."""
    text = (text or "").strip()
    if len(text) > MAX_SEARCH_TEXT_CHARS:
        raise InvalidRequest(f"The search text is longer than {MAX_SEARCH_TEXT_CHARS} characters.")
    return text.lower()


def format_tags(tags: object) -> str:
    """A tag map as `key=value; key=value` (sorted by key), '' for none."""
    mapping = as_tag_dict(tags)
    return "; ".join(f"{k}={mapping[k]}" for k in sorted(mapping))


def as_tag_dict(tags: Any) -> dict[str, str]:
    """A tag map from whatever the engine returned (dict, list of pairs, None/NaN)."""
    if tags is None or (isinstance(tags, float) and math.isnan(tags)):
        return {}
    if isinstance(tags, Mapping):
        if set(tags) == {"key", "value"} and isinstance(tags.get("key"), (list, tuple)):
            return dict(zip(tags["key"], tags["value"], strict=False))
        return {str(k): ("" if v is None else str(v)) for k, v in tags.items()}
    try:
        return {str(k): ("" if v is None else str(v)) for k, v in tags}  # list of (key, value)
    except (TypeError, ValueError):
        return {}


# --- snapshot diffs ---------------------------------------------------------------------------

CREATED = "created"
DELETED = "deleted"
CHANGED = "changed"
# What a change means: attributes a person would notice. Not created_at (fixed) nor arn (derived from the id).
DIFF_FIELDS = ("resource_name", "state", "instance_type", "volume_type", "size_gb", "attached", "attached_to",
               "encrypted", "public", "tags")
DIFF_KEY_COLUMNS = ("resource_id", "resource_type", "account_id", "region")


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (dict, list, tuple)) else False
    except (TypeError, ValueError):
        return False


def values_equal(a: Any, b: Any) -> bool:
    """Equality that treats None/NaN alike and compares tag maps as dicts."""
    if is_missing(a) and is_missing(b):
        return True
    if is_missing(a) or is_missing(b):
        return False
    if isinstance(a, (dict, list, tuple)) or isinstance(b, (dict, list, tuple)):
        return as_tag_dict(a) == as_tag_dict(b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b


def display_value(value: object) -> str:
    if is_missing(value):
        return "–"
    if isinstance(value, (dict, list, tuple)):
        return format_tags(value) or "(no tags)"
    return str(value)


def diff_snapshots(before: pd.DataFrame, after: pd.DataFrame, fields: tuple[str, ...] = DIFF_FIELDS) -> pd.DataFrame:
    """Resources created, deleted or changed between two snapshots.

    Returns one row per differing resource: resource_id, resource_type,
    account_id, region, resource_name, change, changed_fields (comma-separated)
    and details (`field: old → new; ...`), sorted by change then id.
    Vectorized: whole snapshots of a large organization compare in well under a second.
    """
    fields = tuple(f for f in fields if f in before.columns and f in after.columns)
    columns = ["resource_id", "resource_type", "account_id", "region", "resource_name", "change", "changed_fields", "details"]
    b = before.drop_duplicates("resource_id").set_index("resource_id", drop=False)
    a = after.drop_duplicates("resource_id").set_index("resource_id", drop=False)
    common = a.index.intersection(b.index)
    old, new = b.loc[common], a.loc[common]
    flags = pd.DataFrame({f: _differs(old[f], new[f], f) for f in fields}, index=common)
    changed = common[flags.any(axis=1).to_numpy()] if len(fields) else common[:0]
    parts = [
        _identity(a.loc[a.index.difference(b.index)], CREATED),
        _identity(b.loc[b.index.difference(a.index)], DELETED),
    ]
    if len(changed):
        frame = _identity(a.loc[changed], CHANGED)
        hit = flags.loc[changed]
        old_c, new_c = old.loc[changed], new.loc[changed]
        names = np.full(len(changed), "", dtype=object)
        details = np.full(len(changed), "", dtype=object)
        for f in fields:
            mask = hit[f].to_numpy()
            if not mask.any():
                continue
            if f == "tags":
                text = [_field_change(f, o, n) for o, n in zip(old_c[f][mask], new_c[f][mask], strict=True)]
            else:
                text = (f + ": " + old_c[f][mask].map(display_value) + " → " + new_c[f][mask].map(display_value)).to_numpy()
            names[mask] = _append(names[mask], np.full(mask.sum(), f, dtype=object), ", ")
            details[mask] = _append(details[mask], np.asarray(text, dtype=object), "; ")
        frame["changed_fields"], frame["details"] = names, details
        parts.append(frame)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    order = {CREATED: 0, DELETED: 1, CHANGED: 2}
    return out.sort_values(["change", "resource_id"], key=lambda s: s.map(order) if s.name == "change" else s).reset_index(drop=True)


_MISSING = "\x00missing"


def _append(acc: np.ndarray, part: np.ndarray, sep: str) -> np.ndarray:
    """Element-wise `acc + sep + part`, without a separator where either side is empty."""
    joiner = np.where((acc != "") & (part != ""), sep, "").astype(object)
    return acc + joiner + part


def _differs(old: pd.Series, new: pd.Series, field: str) -> pd.Series:
    """Per row: does `field` differ? NULL equals NULL, floats compare with a tolerance.

    Tag maps arrive as dicts, whose == ignores key order: compared as they are, no text round trip.
    """
    old_na, new_na = old.isna().to_numpy(), new.isna().to_numpy()
    if pd.api.types.is_float_dtype(old) and pd.api.types.is_float_dtype(new):
        same = np.isclose(old.fillna(0.0).to_numpy(float), new.fillna(0.0).to_numpy(float), rtol=1e-9, atol=1e-9)
    else:
        o = old.astype(object).where(~old_na, _MISSING).to_numpy()
        n = new.astype(object).where(~new_na, _MISSING).to_numpy()
        same = o == n
    equal = (old_na & new_na) | (~old_na & ~new_na & same)
    return pd.Series(~equal, index=old.index)


def _identity(frame: pd.DataFrame, change: str) -> pd.DataFrame:
    out = pd.DataFrame({c: (frame[c].to_numpy() if c in frame.columns else None)
                        for c in ("resource_id", "resource_type", "account_id", "region", "resource_name")})
    out["change"] = change
    out["changed_fields"] = ""
    out["details"] = ""
    return out


def _field_change(field: str, old: object, new: object) -> str:
    if field == "tags":
        o, n = as_tag_dict(old), as_tag_dict(new)
        parts = [f"+{k}={n[k]}" for k in sorted(set(n) - set(o))]
        parts += [f"-{k}" for k in sorted(set(o) - set(n))]
        parts += [f"{k}: {o[k]} → {n[k]}" for k in sorted(set(o) & set(n)) if o[k] != n[k]]
        return "tags " + ", ".join(parts)
    return f"{field}: {display_value(old)} → {display_value(new)}"


def count_changes(diff: pd.DataFrame) -> dict[str, int]:
    """{'created': n, 'deleted': n, 'changed': n} of a `diff_snapshots` result."""
    counts = diff["change"].value_counts() if len(diff) else pd.Series(dtype=int)
    return {c: int(counts.get(c, 0)) for c in (CREATED, DELETED, CHANGED)}


def history_changes(history: pd.DataFrame, fields: tuple[str, ...] = DIFF_FIELDS) -> pd.DataFrame:
    """One resource over its snapshots: the snapshot dates where something changed, and what.

    `history` has one row per snapshot_date. Returns snapshot_date, change
    ('first seen', 'changed', 'gone', 'seen again') and details.
    """
    cols = ["snapshot_date", "change", "details"]
    if history.empty:
        return pd.DataFrame(columns=cols)
    h = history.sort_values("snapshot_date").reset_index(drop=True)
    fields = tuple(f for f in fields if f in h.columns)
    rows = [{"snapshot_date": h.loc[0, "snapshot_date"], "change": "first seen", "details": ""}]
    dates = list(h["snapshot_date"])
    for i in range(1, len(h)):
        prev, cur = h.loc[i - 1], h.loc[i]
        gap = (pd.Timestamp(dates[i]) - pd.Timestamp(dates[i - 1])).days
        if gap > 1:
            rows.append({"snapshot_date": cur["snapshot_date"], "change": "seen again",
                         "details": f"absent from {gap - 1} daily snapshot(s) before this one"})
        changed = [f for f in fields if not values_equal(prev[f], cur[f])]
        if changed:
            rows.append({"snapshot_date": cur["snapshot_date"], "change": "changed",
                         "details": "; ".join(_field_change(f, prev[f], cur[f]) for f in changed)})
    return pd.DataFrame(rows, columns=cols)


# --- tag compliance ---------------------------------------------------------------------------

def evaluate_tag_compliance(resources: pd.DataFrame, required: Mapping[str, tuple[str, ...]],
                            tag_columns: Mapping[str, str]) -> pd.DataFrame:
    """Per resource: is it compliant, and what is missing or has a value outside the allowed list.

    `resources` has resource_id, account_id, resource_type, resource_name and one
    column per required key (named by `tag_columns[key]`) with the tag's value or
    NULL. An empty or blank value counts as missing; allowed values compare
    case-sensitively, as AWS and Cost Explorer do. Returns the input's identity
    columns plus `compliant` (bool), `missing` and `invalid` (text).
    """
    out = resources[[c for c in ("resource_id", "account_id", "resource_type", "resource_name") if c in resources.columns]].copy()
    missing = np.full(len(resources), "", dtype=object)
    invalid = np.full(len(resources), "", dtype=object)
    for key, allowed in required.items():
        values = resources[tag_columns[key]].astype("string")
        blank = (values.isna() | (values.str.strip() == "")).fillna(True).to_numpy(bool)
        missing = _append(missing, np.where(blank, key, "").astype(object), ", ")
        if allowed:
            bad = ~blank & ~values.isin(list(allowed)).fillna(False).to_numpy(bool)
            text = (key + "=" + values.fillna("")).to_numpy(dtype=object)
            invalid = _append(invalid, np.where(bad, text, "").astype(object), ", ")
    out["missing"] = missing
    out["invalid"] = invalid
    out["compliant"] = (out["missing"] == "") & (out["invalid"] == "")
    return out


def compliance_by(evaluated: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Compliance per account or type: resources, compliant, compliance_pct (0-100), worst first."""
    cols = [dimension, "resources", "compliant", "compliance_pct"]
    if evaluated.empty:
        return pd.DataFrame(columns=cols)
    g = evaluated.groupby(dimension, dropna=False)["compliant"].agg(resources="size", compliant="sum").reset_index()
    g["compliant"] = g["compliant"].astype(int)
    g["compliance_pct"] = 100.0 * g["compliant"] / g["resources"]
    return g.sort_values(["compliance_pct", dimension]).reset_index(drop=True)[cols]


def compliance_pct(evaluated: pd.DataFrame) -> float | None:
    """Overall compliance in percent, None when there is nothing to evaluate."""
    if evaluated.empty:
        return None
    return 100.0 * float(evaluated["compliant"].mean())


def describe_required_tags(required: Mapping[str, tuple[str, ...]]) -> str:
    """`team (any value), environment (prod, dev)` for the page's intro line."""
    return ", ".join(f"`{k}` ({', '.join(v) if v else 'any value'})" for k, v in required.items())


# --- waste finder -----------------------------------------------------------------------------

UNATTACHED_VOLUME = "unattached_volumes"
STOPPED_INSTANCE = "stopped_instances"
UNASSOCIATED_EIP = "unassociated_eips"
OLD_SNAPSHOT = "old_snapshots"
PREVIOUS_GENERATION = "previous_generation"
GP2_VOLUME = "gp2_volumes"

WASTE_CATEGORIES: dict[str, str] = {
    UNATTACHED_VOLUME: "Unattached EBS volumes",
    STOPPED_INSTANCE: "Stopped instances still paying for storage",
    UNASSOCIATED_EIP: "Unassociated elastic IPs",
    OLD_SNAPSHOT: "Old EBS snapshots",
    PREVIOUS_GENERATION: "Previous-generation instance types",
    GP2_VOLUME: "gp2 volumes cheaper as gp3",
}

# What moving to the current family typically saves at on-demand prices (e.g. t2->t3 about 10%,
# m4->m5 about 4%, c4->c5 about 15%): one conservative figure, said to be an estimate on screen.
PREVIOUS_GENERATION_SAVINGS_FRACTION = 0.10
# gp3 costs $0.08 per GB-month against gp2's $0.10 in us-east-1, at the same baseline performance.
GP2_TO_GP3_SAVINGS_FRACTION = 0.20
# Deleting an orphan (or releasing an EIP) saves what it costs.
FULL_SAVINGS = 1.0
ACTIVE_INSTANCE_STATES = ("running", "stopped", "stopping", "pending", "available")


def instance_family(instance_type: object) -> str:
    """'m4' from 'm4.large' or 'db.m4.large'; '' when there is none."""
    if not isinstance(instance_type, str) or not instance_type:
        return ""
    text = instance_type[3:] if instance_type.startswith("db.") else instance_type
    return text.split(".", 1)[0].lower()


def is_previous_generation(instance_type: object) -> bool:
    return instance_family(instance_type) in PREVIOUS_GENERATION_FAMILIES


def snapshot_age_days(created_at: pd.Series, snapshot_date: dt.date) -> pd.Series:
    ts = pd.to_datetime(created_at, errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    return (pd.Timestamp(snapshot_date) - ts.dt.normalize()).dt.days


def classify_waste(candidates: pd.DataFrame, snapshot_date: dt.date, costs: pd.DataFrame | None,
                   old_snapshot_days: int = OLD_SNAPSHOT_DAYS) -> pd.DataFrame:
    """The waste findings: one row per (category, resource).

    `candidates` are inventory rows of one snapshot (resource_id, resource_type,
    account_id, region, resource_name, state, created_at, instance_type,
    volume_type, size_gb, attached, attached_to). `costs` has resource_id and
    cost_30d (unblended cost over the last 30 days, from the CUR) in one
    currency (the caller picks it: amounts of different currencies are never
    added), or is None when the principal may not read the CUR: the cost
    columns are then NaN, never a made-up figure.

    Returned columns: category, category_label, resource_id, resource_type,
    account_id, region, resource_name, reason, monthly_cost, savings_fraction,
    monthly_savings.
    """
    cols = ["category", "category_label", "resource_id", "resource_type", "account_id", "region", "resource_name",
            "reason", "monthly_cost", "savings_fraction", "monthly_savings"]
    if candidates.empty:
        return pd.DataFrame(columns=cols)
    if costs is not None and "currency" in costs.columns and costs["currency"].nunique() > 1:
        raise InvalidRequest("The waste costs are in several currencies, which are never added: pick one "
                             f"({', '.join(sorted(map(str, costs['currency'].unique())))}).")
    c = candidates.drop_duplicates("resource_id").reset_index(drop=True)
    cost_by_id: dict[str, float] = {}
    if costs is not None and not costs.empty:
        cost_by_id = costs.groupby("resource_id")["cost_30d"].sum().to_dict()
    attached = c["attached"].astype("boolean")
    rtype, state = c["resource_type"], c["state"].astype("string").str.lower()
    findings: list[pd.DataFrame] = []

    def add(mask: pd.Series, category: str, reasons: pd.Series | str, fraction: float, cost: pd.Series | None = None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        part = c.loc[mask, ["resource_id", "resource_type", "account_id", "region", "resource_name"]].copy()
        part.insert(0, "category_label", WASTE_CATEGORIES[category])
        part.insert(0, "category", category)
        part["reason"] = reasons[mask] if isinstance(reasons, pd.Series) else reasons
        if costs is None:
            part["monthly_cost"] = math.nan
        elif cost is not None:
            part["monthly_cost"] = cost[mask].astype(float)
        else:
            part["monthly_cost"] = part["resource_id"].map(cost_by_id).fillna(0.0).astype(float)
        part["savings_fraction"] = fraction
        part["monthly_savings"] = part["monthly_cost"] * fraction
        findings.append(part)

    is_volume = rtype == EBS_VOLUME
    size = c["size_gb"].map(lambda v: "" if is_missing(v) else f"{v:,.0f} GB ")
    vtype = c["volume_type"].fillna("").astype(str)
    add(is_volume & (attached == False) | (is_volume & (state == "available") & attached.isna()),  # noqa: E712
        UNATTACHED_VOLUME, size + vtype + " volume attached to nothing", FULL_SAVINGS)

    stopped = (rtype == EC2_INSTANCE) & (state == "stopped")
    # A stopped instance costs nothing for compute; its EBS volumes (billed under their own ids) and any
    # line items still under the instance id are what it keeps paying for.
    volumes_of = c.loc[is_volume & c["attached_to"].notna(), ["resource_id", "attached_to", "size_gb"]]
    storage_cost = pd.Series(0.0, index=c.index)
    storage_gb = pd.Series(0.0, index=c.index)
    if stopped.any():
        vol_cost = volumes_of.assign(cost=volumes_of["resource_id"].map(cost_by_id).fillna(0.0))
        by_instance = vol_cost.groupby("attached_to").agg(cost=("cost", "sum"), gb=("size_gb", "sum"), n=("resource_id", "size"))
        storage_cost = c["resource_id"].map(by_instance["cost"]).fillna(0.0) + c["resource_id"].map(cost_by_id).fillna(0.0)
        storage_gb = c["resource_id"].map(by_instance["gb"]).fillna(0.0)
    add(stopped, STOPPED_INSTANCE, "stopped, " + storage_gb.map(lambda g: f"{g:,.0f} GB of EBS still attached" if g else "EBS storage still billed"),
        FULL_SAVINGS, storage_cost)

    add((rtype == ELASTIC_IP) & (attached == False), UNASSOCIATED_EIP, "elastic IP associated with nothing", FULL_SAVINGS)  # noqa: E712

    age = snapshot_age_days(c["created_at"], snapshot_date)
    add((rtype == EBS_SNAPSHOT) & (age > old_snapshot_days), OLD_SNAPSHOT,
        age.map(lambda d: f"created {d:,.0f} days ago" if not is_missing(d) else ""), FULL_SAVINGS)

    families = c["instance_type"].map(instance_family)
    prev = rtype.isin(INSTANCE_TYPES) & families.isin(list(PREVIOUS_GENERATION_FAMILIES)) & (state != "terminated")
    add(prev, PREVIOUS_GENERATION,
        c["instance_type"].astype(str) + " → " + families.map(PREVIOUS_GENERATION_FAMILIES).fillna("") + " family",
        PREVIOUS_GENERATION_SAVINGS_FRACTION)

    add(is_volume & (vtype.str.lower() == "gp2"), GP2_VOLUME, size + "gp2 → gp3 at the same performance", GP2_TO_GP3_SAVINGS_FRACTION)

    if not findings:
        return pd.DataFrame(columns=cols)
    out = pd.concat(findings, ignore_index=True)[cols]
    order = list(WASTE_CATEGORIES)
    out["_order"] = out["category"].map(order.index)
    return out.sort_values(["_order", "monthly_savings", "resource_id"], ascending=[True, False, True]).drop(columns="_order").reset_index(drop=True)


def waste_summary(findings: pd.DataFrame) -> pd.DataFrame:
    """Per category: label, resources, monthly_cost, monthly_savings (NaN without CUR access)."""
    rows = []
    for key, label in WASTE_CATEGORIES.items():
        part = findings[findings["category"] == key] if len(findings) else findings
        rows.append({"category": key, "category_label": label, "resources": int(len(part)),
                     "monthly_cost": part["monthly_cost"].sum(min_count=1) if len(part) else 0.0,
                     "monthly_savings": part["monthly_savings"].sum(min_count=1) if len(part) else 0.0})
    return pd.DataFrame(rows)


def total_at_stake(findings: pd.DataFrame) -> float | None:
    """Monthly savings over all findings, counting each resource once (at its largest saving).

    A gp2 volume that is also unattached is one resource: deleting it saves its
    cost, not its cost plus 20%. None when no cost is known (no CUR access).
    """
    if findings.empty:
        return 0.0
    if findings["monthly_savings"].isna().all():
        return None
    return float(findings.groupby("resource_id")["monthly_savings"].max().sum())


# --- misc -------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def nearest_snapshots(available: list[dt.date], wanted: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The closest snapshot dates before and after `wanted` (for the 'no snapshot on that day' message)."""
    before = max((d for d in available if d < wanted), default=None)
    after = min((d for d in available if d > wanted), default=None)
    return before, after


def default_compare_date(available: list[dt.date], snapshot: dt.date, days_back: int = 7) -> dt.date | None:
    """The snapshot `days_back` days before `snapshot`, or the earliest one after that; None if there is none."""
    earlier = sorted(d for d in available if d < snapshot)
    if not earlier:
        return None
    target = snapshot - dt.timedelta(days=days_back)
    at_or_before = [d for d in earlier if d <= target]
    return at_or_before[-1] if at_or_before else earlier[0]


def parse_iso_date(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD date from a URL, or None when it is absent or malformed."""
    if not text or not _ISO_DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
