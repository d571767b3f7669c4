"""`build_fleet`: the recipes, incidents and commitments put together into a `Fleet`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from daivi_data.demo.fleet.components import _build_comps
from daivi_data.demo.fleet.core import Fleet, _Ctx, day_date, epoch_day, stable_hex
from daivi_data.demo.fleet.events import STEPS, _add_incidents, _commitments
from daivi_data.demo.fleet.names import _finish_resources
from daivi_data.demo.fleet.recipes import RECIPES, _eks_rightsizing, _networking, _planted_waste, _resizes
from daivi_data.demo.org import ACCOUNTS, ACCOUNTS_BY_NAME


def build_fleet(seed: int, scale_factor: float, end_date: dt.date) -> Fleet:
    end = epoch_day(end_date)
    ctx = _Ctx(seed, scale_factor, end)
    for i, a in enumerate(ACCOUNTS):
        _networking(ctx, i)
        for w in a.workloads:
            RECIPES[w](ctx, i)
    _planted_waste(ctx)
    raw = ctx.rows.frame()
    _resizes(ctx, raw)
    eks_step = _eks_rightsizing(ctx, raw)
    # A probe build prices the base fleet so that incidents can be sized against each group's normal cost.
    probe = _build_comps(ctx, _finish_resources(ctx, raw))
    n_base = ctx.rows.n
    incidents, extra = _add_incidents(ctx, raw, probe)
    added = ctx.rows.frame().loc[n_base:]
    raw = pd.concat([raw, added[raw.columns]])
    res = _finish_resources(ctx, raw)
    comps = _build_comps(ctx, res)
    rid = comps["rid"].to_numpy()
    ut = comps["usage_type"].to_numpy()
    incident_extra = []
    for r, u, d, q in extra:
        ci = int(np.flatnonzero((rid == r) & (ut == u))[0])
        incident_extra.append((ci, int(d), float(q)))
    for inc in incidents:
        inc["start_date"], inc["end_date"] = inc["start"][:10], inc["end"][:10]
        rids = [int(x) for x in inc.pop("rids")]
        bucket = inc.pop("bucket_rid", None)
        inc["host"] = str(res.loc[rids[0], "name"]) if rids else ""
        inc["resource_ids"] = [str(res.loc[x, "resource_id"]) for x in rids] + (
            [str(res.loc[bucket, "resource_id"])] if bucket is not None else [])
    reservations, savings_plans = _commitments(ctx, comps)
    steps = [{"account_id": ACCOUNTS_BY_NAME[a].account_id, "service_code": p, "date": day_date(end - d),
              "factor": f, "description": desc} for a, p, d, f, desc in STEPS]
    steps.append(eks_step)
    comps = _add_comp_strings(comps)
    return Fleet(end=end, resources=res, comps=comps, savings_plans=savings_plans, reservations=reservations,
                 steps=steps, incidents=incidents, incident_extra=incident_extra)


def _add_comp_strings(comps: pd.DataFrame) -> pd.DataFrame:
    comps = comps.copy()
    comps["rate_str"] = [f"{x:.10f}" for x in comps["rate"].to_numpy(float)]
    comps["sku"] = [stable_hex(u + o + r, 14).upper() for u, o, r in
                    zip(comps["usage_type"], comps["operation"], comps["region"], strict=True)]
    comps["ci"] = np.arange(len(comps), dtype=np.int32)
    return comps
