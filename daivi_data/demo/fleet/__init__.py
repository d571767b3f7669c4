"""The demo fleet: every resource of the organization over time, and what it bills.

`build_fleet` returns a `Fleet`:

- `resources`: one row per resource with its lifetime (`created`, `deleted`,
  `stopped`, `detached`, `resized` as fractional epoch days, `inf` = never),
  attributes and raw tags. Inventory snapshots and Splunk hosts come from it.
- `comps`: the cost components: one row per (resource, usage type) that bills
  daily, or per account for usage without a resource (the long tail of small
  services). Each has a rate, a quantity model and an active interval; the CUR
  generator expands them per day.
- savings plans, reserved instances, step changes and incidents.

Resources are created over a fixed 400-day horizon whatever the scale, so the
same shape (fleet growth, churn, waste) shows at every scale; the scale only
multiplies counts. All randomness comes from `numpy.random.default_rng` streams
derived from the seed.

Trend (documented for the demo): variable usage (data transfer, requests,
storage of growing buckets, serverless) grows +2% per month; the fleet grows by
resources created over time (about 28% of resources were created in the last
400 days, 10-20% of those deleted again). Step changes are listed in
`Fleet.steps`.

Modules: `core` (time axis, constants, accumulators), `recipes` (what each
account runs), `names` (names, ids, tags), `components` (what bills), `events`
(commitments, incidents, step changes), `assemble` (`build_fleet`) and
`config_json` (AWS Config documents). Prices are data:
daivi_data/demo/prices.toml, read once by `daivi_data.demo.pricing`.
"""

from daivi_data.demo.fleet.assemble import build_fleet
from daivi_data.demo.fleet.components import expected_daily_cost
from daivi_data.demo.fleet.config_json import resource_config_json
from daivi_data.demo.fleet.core import (
    DAYS_PER_MONTH,
    GROWTH_PER_MONTH,
    Q_HOURS,
    Q_MONTHLY,
    Q_VARIABLE,
    Fleet,
    day_date,
    epoch_day,
)

__all__ = [
    "DAYS_PER_MONTH", "GROWTH_PER_MONTH", "Q_HOURS", "Q_MONTHLY", "Q_VARIABLE", "Fleet", "build_fleet", "day_date",
    "epoch_day", "expected_daily_cost", "resource_config_json",
]
