"""Every named query the app can send, built from representative arguments.

The builders are found, not listed: every public function of a module of this
package whose return annotation names `Query` (directly, or in a tuple). The
arguments are kept here, per builder, with every optional part switched on, and
a few variants where a builder writes different SQL for different choices.
`tests/sql/test_query_contract.py` holds every registered query to one contract
(parses as Athena, governs for each role, prunes partitions, matches its snapshot).

A new public builder without arguments here fails that test by name (`unregistered()`),
as does an entry here whose builder is gone (`stale()`). Dates are fixed, so
the rendered SQL is the same on every day.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import daivi_data.queries as package
from daivi_data.queries import Query

DAY = dt.date(2026, 11, 15)  # a fixed "today" for every sample
PERIOD = "2026-11"
ACCOUNT = "411111111101"


@dataclass(frozen=True)
class Args:
    """One call of a builder: positional and keyword arguments, and a label when a builder has several."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""


def call(*args, label: str = "", **kwargs) -> Args:
    return Args(args, kwargs, label)


@dataclass(frozen=True)
class NamedQuery:
    key: str  # "<module>.<builder>" or "<module>.<builder>[<label>]": the snapshot's file name
    query: Query


def _modules() -> list[ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_") and m.name != "registry")
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def _returns_query(fn: Callable) -> bool:
    returned = typing.get_type_hints(fn).get("return")
    return returned is Query or Query in typing.get_args(returned)


def builders() -> dict[str, Callable]:
    """"<module>.<function>" -> every public function of daivi_data.queries.* that returns a Query."""
    found: dict[str, Callable] = {}
    for module in _modules():
        short = module.__name__.rsplit(".", 1)[1]
        for name, member in inspect.getmembers(module, callable):
            fn = inspect.unwrap(member)  # a builder may be decorated (functools.lru_cache, wraps)
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_") and _returns_query(fn):
                found[f"{short}.{name}"] = member
    return found


def _billing_scope():
    from daivi_data.queries import billing as b

    return b.CostScope(DAY.replace(day=1), DAY, "amortized", (
        b.CostFilter(b.Dimension("region"), ("us-east-1",)),
        b.CostFilter(b.Dimension("ou"), ("Payments",)),
        b.CostFilter(b.Dimension.parse("tag:team"), ("checkout",), exclude=True),
    ), currency="USD")


def _billing() -> dict[str, tuple[Args, ...]]:
    from daivi_data.queries import billing as b

    scope = _billing_scope()
    start, end = scope.start, scope.end
    previous = (dt.date(2026, 10, 1), dt.date(2026, 10, 15))
    return {
        "group_totals": (call(scope, b.Dimension("service"), b.Dimension.parse("tag:team"), *previous),
                         call(b.CostScope(start, end), b.Dimension("account"), None, *previous, label="one-group-no-filter")),
        "cost_series": (call(scope, "weekly", b.Dimension("ou"), ("Payments",), b.Dimension("region"), ("us-east-1",)),
                        call(scope, "daily", b.Dimension.parse("tag:team"), ("checkout",), label="daily-tag")),
        "daily_totals": (call(scope),),
        "daily_by_group": (call(scope, b.Dimension("account")),),
        "anomaly_details": (call(scope, b.Dimension("service"), ("Amazon Elastic Compute Cloud",)),),
        "dimension_values": (call(scope),),
        "tag_keys": (call(start, end),),
        "tag_values": (call(start, end, "team"),),
        "accounts": (call(),),
        "data_end": (call(PERIOD),),
        "budgets": (call(),),
        "currencies": (call(start, end),),
        "budget_scope_costs": (call(DAY, "unblended", 7, "USD"),),
        "budget_daily_costs": (call(DAY, "amortized", 7),),
    }


def _cur() -> dict[str, tuple[Args, ...]]:
    from daivi_data.queries import cur as c

    deepest = c.DrillPath(PERIOD, account=ACCOUNT, service="AmazonEC2", usage_type="BoxUsage:m5.large",
                          operation="RunInstances", resource="i-0abc", currency="USD")
    levels = tuple(call(deepest.up_to(level), label=level) for level in c.DRILL_LEVELS)
    return {
        "period_line_items": (call("2026-11", 24),),
        "period_totals": (call("2026-11", 24),),
        "period_summary": (call(PERIOD, "USD"),),
        "drill_level": (*levels, call(deepest.up_to("service"), "amortized", label="service-amortized")),
        "line_items": (call(deepest),
                       call(c.DrillPath(PERIOD, account=ACCOUNT, service="AmazonEC2", usage_type="X", resource=c.NO_RESOURCE),
                            label="no-resource-id")),
        "invoice_by_line_item_type": (call(PERIOD, "USD"),),
        "billing_by_record_type": (call(PERIOD, "USD"),),
        "coverage_by_day": (call("2026-09", PERIOD, "USD"),),
        "coverage_by_account_family": (call(PERIOD, "USD"),),
        "commitment_utilization": (call("2026-09", PERIOD, "USD"),),
        "commitments_expiring": (call(PERIOD, DAY, 90, "USD"),),
        "tag_keys": (call(PERIOD),),
        "cost_by_tag": (call(PERIOD, "user_team", "USD"),),
        "top_resources": (call(PERIOD, "amortized", 25, "USD"),),
        "data_transfer": (call(PERIOD, "USD"),),
    }


def _inventory() -> dict[str, tuple[Args, ...]]:
    from daivi_data.queries import inventory as i

    tags = (i.TagCondition("team", i.TAG_EQUALS, "payments"), i.TagCondition("cost-center", i.TAG_MISSING),
            i.TagCondition("owner", i.TAG_EXISTS), i.TagCondition("env", i.TAG_NOT_EQUALS, "dev"))
    search = i.ResourceFilter(text="web", tags=tags, resource_types=("AWS::EC2::Instance",), accounts=(ACCOUNT,),
                              regions=("us-east-1",), states=("running",))
    month_ago = DAY - dt.timedelta(days=30)
    return {
        "account_names": (call(),),
        "snapshot_dates": (call(month_ago, DAY),),
        "counts_by_dimension": (call(DAY),),
        "trend_by_type": (call(month_ago, DAY),),
        "snapshot_changes": (call(DAY - dt.timedelta(days=7), DAY, ACCOUNT),),
        "search_count": (call(DAY, search),),
        "search_page": (call(DAY, search, i.DEFAULT_SEARCH_COLUMNS, 2, 25),),
        "search_export": (call(DAY, search, tuple(i.SEARCH_COLUMNS), 1000),),
        "required_tag_values": (call(DAY, ("team", "environment")),),
        "waste_candidates": (call(DAY, 180),),
        "waste_costs": (call(DAY, 180),),
        "resource_detail": (call(DAY, "i-0abc", True),),
        "resources_by_host": (call(DAY, "web-01"),),
        "resource_history": (call("i-0abc", month_ago, DAY),),
        "resource_seen": (call("i-0abc", month_ago, DAY),),
        "resource_daily_cost": (call("i-0abc", DAY),),
        "host_events": (call("web-01", DAY - dt.timedelta(days=1), DAY),),
        "host_event_counts": (call("web-01", DAY),),
    }


def _overview() -> dict[str, tuple[Args, ...]]:
    return {
        "billing_month_to_date": (call(DAY),),
        "cur_month_summary": (call(DAY),),
        "inventory_snapshot_summary": (call(DAY),),
        "splunk_last_24h": (call(dt.datetime.combine(DAY, dt.time(12))),),
    }


def _splunk() -> dict[str, tuple[Args, ...]]:
    from daivi_data.queries import splunk as s

    day = s.TimeRange(dt.datetime.combine(DAY, dt.time(0)), dt.datetime.combine(DAY, dt.time(18)))
    f = s.EventFilter.of(day, 'zzneedle host=qqhost* NOT "x y" status>=500')
    return {
        "newest_event_time": (call(DAY),),
        "event_summary": (call(f),),
        "timeline": (call(f, "severity", 300),),
        "top_values": (call(f, "host"),),
        "top_values_by_field": (call(f, ["host", "status"]),),
        "events_page": (call(f, ["host", "http_status", "message"], 50, 100),),
        "stats_table": (call(f, "p95", "duration", "host"),),
        "stats_timechart": (call(f, "avg", "bytes", "host", ["web-01", "web-02"], 300),),
        "error_rate": (call(f, 300),),
        "search_overview": (call(f, "severity", 300, ["host", "http_status"]),),
        "inventory_hosts": (call(DAY, ["web-01", "web-02"]),),
    }


# "<module>" -> a function giving "<builder>" -> its calls (functions, so a broken sample fails its own test only).
SAMPLE_ARGS: dict[str, Callable[[], dict[str, tuple[Args, ...]]]] = {
    "billing": _billing, "cur": _cur, "inventory": _inventory, "overview": _overview, "splunk": _splunk,
}


def registered() -> set[str]:
    """"<module>.<builder>" of every builder with sample arguments here."""
    return {f"{module}.{name}" for module, samples in SAMPLE_ARGS.items() for name in samples()}


def unregistered() -> list[str]:
    """Public Query builders without sample arguments: add them to SAMPLE_ARGS."""
    return sorted(set(builders()) - registered())


def stale() -> list[str]:
    """Sample arguments whose builder is gone (or no longer returns a Query): remove them."""
    return sorted(registered() - set(builders()))


def queries_of(key: str) -> list[NamedQuery]:
    """The queries a registered builder ("<module>.<builder>") builds from its sample arguments."""
    module, name = key.split(".", 1)
    fn = builders()[key]
    out = []
    for sample in SAMPLE_ARGS[module]()[name]:
        built = fn(*sample.args, **sample.kwargs)
        found = [built] if isinstance(built, Query) else [q for q in built if isinstance(q, Query)]
        for n, query in enumerate(found):
            label = "-".join(p for p in (sample.label, str(n) if len(found) > 1 else "") if p)
            out.append(NamedQuery(f"{key}[{label}]" if label else key, query))
    return out


def all_queries() -> list[NamedQuery]:
    """Every registered query (a builder that fails with its sample arguments raises)."""
    return [named for key in sorted(registered() & set(builders())) for named in queries_of(key)]
