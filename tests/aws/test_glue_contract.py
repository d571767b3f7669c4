"""The Glue tables the app meets in real accounts: date partition keys declared `string`, projected partitions.

A Glue crawler declares `snapshot_date=2026-03-01/` folders as a `string`
partition key; Athena then refuses `snapshot_date = DATE '2026-03-01'`
(varchar = date). With partition projection, Glue lists no partitions at all,
so freshness must come from the data's own folders, not from GetPartitions.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from sqlglot import exp

from daivi_data.engines.athena import AthenaEngine
from daivi_data.queries import inventory, splunk
from tests.aws.conftest import create_glue_table

pytestmark = pytest.mark.aws

DAY = dt.date(2026, 3, 15)
TEXT_DATES = ("snapshot_date", "event_date")
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


def _queries():
    tr = splunk.TimeRange(dt.datetime(2026, 3, 15), dt.datetime(2026, 3, 16))
    f = splunk.EventFilter.of(tr, "status>=500")
    return [
        inventory.snapshot_dates(DAY - dt.timedelta(days=6), DAY), inventory.trend_by_type(DAY - dt.timedelta(days=6), DAY),
        inventory.snapshot_changes(DAY - dt.timedelta(days=1), DAY), inventory.counts_by_dimension(DAY),
        inventory.waste_candidates(DAY, 90), inventory.resource_history("i-1", DAY - dt.timedelta(days=6), DAY),
        inventory.host_events("web-1", DAY - dt.timedelta(days=1), DAY), inventory.host_event_counts("web-1", DAY),
        splunk.newest_event_time(DAY), splunk.event_summary(f), splunk.timeline(f, "host", 3600),
        splunk.events_page(f, ["host"]), splunk.error_rate(f, 3600), splunk.search_overview(f, "host", 3600, ["index"]),
    ]


def _catalog(aws, key_type: str):
    glue = aws.client("glue")
    for database, table, key in (("daivi_inventory", "resources", "snapshot_date"), ("daivi_splunk", "events", "event_date"),
                                 ("daivi_billing", "cost_daily", "billing_period"), ("daivi_cur", "cur", "billing_period")):
        create_glue_table(glue, database, table, key, [])
        if key_type != "string":
            glue.update_table(DatabaseName=database, TableInput={
                "Name": table, "StorageDescriptor": {"Location": f"s3://daivi-lake/{database}/{table}/",
                                                     "Columns": [{"Name": "x", "Type": "string"}]},
                "PartitionKeys": [{"Name": key, "Type": "date" if key != "billing_period" else "string"}]})


def test_string_date_partition_keys_are_compared_as_text_and_read_as_dates(aws, athena_settings):
    _catalog(aws, "string")
    engine = AthenaEngine(athena_settings)
    assert engine.text_date_keys() == frozenset(TEXT_DATES)
    for query in _queries():
        sql, params = engine.prepare(query)
        tree = sqlglot.parse_one(sql, read="athena")
        assert len(list(tree.find_all(exp.Placeholder))) == len(params) > 0  # a bound partition predicate
        for column in tree.find_all(exp.Column):
            if column.name not in TEXT_DATES:
                continue
            if isinstance(column.parent, exp.Cast):
                assert column.parent.to.is_type("date"), query.name  # read as the contract's DATE
                continue
            # A bare text column: only in a comparison with text, never with a DATE (Athena: varchar = date fails).
            assert isinstance(column.parent, COMPARISONS), (query.name, column.parent.sql())
            for other in column.parent.iter_expressions():
                if other is column:
                    continue
                assert not (isinstance(other, exp.Cast) and other.to.is_type("date")), (query.name, sql)
        assert not any(p.startswith("DATE '") for p in params), (query.name, params)


def test_date_declared_partition_keys_keep_date_parameters(aws, athena_settings):
    _catalog(aws, "date")
    engine = AthenaEngine(athena_settings)
    assert engine.text_date_keys() == frozenset()
    sql, params = engine.prepare(inventory.counts_by_dimension(DAY))
    assert params == ["DATE '2026-03-15'"] and "CAST(snapshot_date" not in sql


@pytest.mark.parametrize(("template", "folders", "latest"), [
    # CUR 2.0 Data Exports: upper-case partition folder under data/, named by the projection's template.
    ("s3://daivi-lake/exports/cur2/data/BILLING_PERIOD=${billing_period}/", ["BILLING_PERIOD=2026-01", "BILLING_PERIOD=2026-02"],
     "2026-02"),
    # Hive layout under the table location, no template.
    ("", ["billing_period=2025-12", "billing_period=2026-03"], "2026-03"),
])
def test_projected_partitions_take_freshness_from_the_data_folders(aws, athena_settings, template, folders, latest):
    glue, s3 = aws.client("glue"), aws.client("s3")
    s3.create_bucket(Bucket="daivi-lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    location = "s3://daivi-lake/exports/cur2/data/" if template else "s3://daivi-lake/daivi_cur/cur/"
    parameters = {"projection.enabled": "true", "projection.billing_period.type": "date",
                  "projection.billing_period.format": "yyyy-MM", "projection.billing_period.range": "2020-01,NOW"}
    if template:
        parameters["storage.location.template"] = template
    glue.create_database(DatabaseInput={"Name": "daivi_cur"})
    glue.create_table(DatabaseName="daivi_cur", TableInput={
        "Name": "cur", "Parameters": parameters, "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
        "StorageDescriptor": {"Location": location, "Columns": [{"Name": "x", "Type": "string"}]}})
    prefix = location.removeprefix("s3://daivi-lake/")
    for folder in folders:
        s3.put_object(Bucket="daivi-lake", Key=f"{prefix}{folder}/part-0.parquet", Body=b"x")
    s3.put_object(Bucket="daivi-lake", Key=f"{prefix}_SUCCESS", Body=b"")  # not a partition folder
    info = AthenaEngine(athena_settings).table_info("daivi_cur", "cur")
    assert (info.exists, info.partitions, info.latest_partition) == (True, len(folders), latest)
