"""The Glue DDL reads what the demo generator and the importers write, column for column and folder for folder."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from daivi_data import catalog
from deploy import glue
from deploy.generate import GLUE_DIR

# How Parquet (as the lakehouse writer stores it) and Glue name the same types.
ARROW_TO_GLUE = {"string": "string", "large_string": "string", "double": "double", "date32[day]": "date", "bool": "boolean",
                 "int32": "int", "int64": "bigint", "timestamp[us]": "timestamp"}


def _glue_name(arrow_type) -> str:
    if isinstance(arrow_type, pa.MapType):
        return f"map<{_glue_name(arrow_type.key_type)},{_glue_name(arrow_type.item_type)}>"
    return ARROW_TO_GLUE[str(arrow_type)]


ALL_TABLES = [(lh, t) for lh in catalog.LAKEHOUSES.values() for t in lh.tables]


def _statements(path: Path) -> list[exp.Expression]:
    body = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("--"))
    return [s for s in sqlglot.parse(body, read="athena") if s is not None]


@pytest.mark.parametrize("lakehouse", catalog.LAKEHOUSES.values(), ids=lambda lh: lh.key)
def test_each_ddl_file_creates_the_catalog_tables_with_their_columns(lakehouse):
    statements = _statements(GLUE_DIR / f"{lakehouse.default_database}.sql")
    tables = {s.this.this.name: s for s in statements if s.args.get("kind") == "TABLE"}
    assert set(tables) == {t.name for t in lakehouse.tables}
    for table in lakehouse.tables:
        created = tables[table.name]
        assert created.this.this.args["db"].name == lakehouse.default_database
        defined = [c.name for c in created.find_all(exp.ColumnDef)]
        assert sorted(defined) == sorted(table.column_names)
        partitioned = created.find(exp.PartitionedByProperty)
        assert ([c.name for c in partitioned.find_all(exp.ColumnDef)] if partitioned else []) == list(table.partition_keys)


def test_every_partition_key_is_projected_and_every_type_has_a_glue_type():
    for _lh, table in ALL_TABLES:
        for key in table.partition_keys:
            assert key in glue.PROJECTIONS
        for column in table.columns:
            assert glue.glue_type(column)


def test_comments_with_quotes_stay_inside_their_literal():
    sql = glue.create_table_sql(glue.lakehouse_table("s3://b/p", catalog.BILLING, catalog.BILLING.table("cost_daily")))
    assert "COMMENT 'Partition: \\'YYYY-MM\\'.'" in sql
    assert "'Region code, or \\'global\\'.'" in sql


@pytest.mark.parametrize(("lakehouse", "table"), ALL_TABLES, ids=lambda x: getattr(x, "name", getattr(x, "key", "")))
def test_the_demo_lakehouse_is_in_the_layout_and_types_the_tables_read(small_lakehouse, lakehouse, table):
    # Where `aws s3 sync <lakehouse> s3://bucket/lakehouse` puts each file.
    root = "s3://bucket/lakehouse"

    def s3_folder(path: Path) -> str:
        return f"{root}/{path.relative_to(small_lakehouse).as_posix()}/"

    spec = glue.lakehouse_table(root, lakehouse, table)
    folder = small_lakehouse / lakehouse.default_database / table.name
    assert spec.location == s3_folder(folder)
    files = sorted(folder.rglob("*.parquet"))
    assert files
    if table.partition_keys:
        template = spec.parameters()["storage.location.template"]
        projection = glue.PROJECTIONS[table.partition_keys[0]]
        value = {"yyyy-MM": r"\d{4}-\d{2}", "yyyy-MM-dd": r"\d{4}-\d{2}-\d{2}"}[projection.format]
        pattern = re.escape(template).replace(re.escape("${" + table.partition_keys[0] + "}"), value)
        for f in files:
            assert re.fullmatch(pattern, s3_folder(f.parent)), f
    else:
        assert all(f.parent == folder for f in files)
    schema = pq.read_schema(files[0])
    stored = [(field.name, _glue_name(field.type)) for field in schema]
    assert stored == [(c.name, glue.glue_type(c)) for c in spec.data_columns]
