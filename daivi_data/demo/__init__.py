"""Deterministic demo lakehouse generator (billing, CUR, inventory, Splunk).

    from daivi_data.demo import build_demo_lakehouse
    manifest = build_demo_lakehouse("lakehouse/", scale="small", seed=7)

or `python -m daivi_data.demo --scale small --out lakehouse/`. Same seed, scale
and end date give the same data. See `build.py` for the layout and `cur.py` for
the cost semantics.
"""

from daivi_data.demo.build import SCALES, build_demo_lakehouse, default_end_date
from daivi_data.demo.org import ACCOUNTS, PAYMENTS_ACCOUNT_IDS
from daivi_data.lakehouse import SERVICE_NAMES

__all__ = ["ACCOUNTS", "PAYMENTS_ACCOUNT_IDS", "SCALES", "SERVICE_NAMES", "build_demo_lakehouse", "default_end_date"]
