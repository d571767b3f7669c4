"""The Glue tables of the four lakehouses, from the catalog contract (`daivi_data/catalog.py`).

One type map and one table definition, rendered twice: as the `TableInput` of an
`AWS::Glue::Table` in the CloudFormation stack, and as Athena's
`CREATE EXTERNAL TABLE` in `deploy/glue/<database>.sql`. Neither is written by
hand, so neither can drift from the catalog.

S3 layouts the tables read (Parquet files, any names):

- the lakehouse layout, which `python -m daivi_data.demo` and
  `python -m daivi_data.ingest` write and `aws s3 sync` copies as it is:
  `{root}/{database}/{table}/{partition_key}={value}/*.parquet`
  (`billing_period=2026-03`, `snapshot_date=2026-03-31`, `event_date=2026-03-31`),
  unpartitioned tables directly in `{root}/{database}/{table}/`;
- a CUR 2.0 Data Export, read where AWS writes it:
  `s3://{bucket}/{prefix}/{export name}/data/BILLING_PERIOD=2026-03/*.parquet`.

Partitions are projected (Athena computes them from the table properties, so
nothing is listed in Glue, and no crawler or `MSCK REPAIR` is needed). Every
query carries a partition predicate, so a projection that reaches back to
2020 costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from daivi_data import catalog

# Athena (Trino) types of the catalog -> Hive types of Glue and Athena DDL.
GLUE_TYPES = {
    "varchar": "string",
    "double": "double",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
    "integer": "int",
    "bigint": "bigint",
    catalog.TAG_MAP: "map<string,string>",
}
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
CUR_EXPORT_PARTITION_FOLDER = "BILLING_PERIOD=${billing_period}"  # CUR 2.0 Data Exports name the folder in capitals


@dataclass(frozen=True)
class DateProjection:
    """Athena's `date` partition projection of one partition key."""

    format: str  # Java DateTimeFormatter pattern of the folder value
    unit: str  # interval unit between partitions
    first: str  # oldest partition projected; the newest is NOW

    def properties(self, key: str) -> dict[str, str]:
        return {
            f"projection.{key}.type": "date",
            f"projection.{key}.format": self.format,
            f"projection.{key}.range": f"{self.first},NOW",
            f"projection.{key}.interval": "1",
            f"projection.{key}.interval.unit": self.unit,
        }


PROJECTIONS = {
    "billing_period": DateProjection("yyyy-MM", "MONTHS", "2020-01"),
    "snapshot_date": DateProjection("yyyy-MM-dd", "DAYS", "2020-01-01"),
    "event_date": DateProjection("yyyy-MM-dd", "DAYS", "2020-01-01"),
}


def glue_type(column: catalog.Column) -> str:
    try:
        return GLUE_TYPES[column.type]
    except KeyError:
        raise ValueError(f"No Glue type for {column.name} {column.type!r}: add it to deploy.glue.GLUE_TYPES") from None


@dataclass(frozen=True)
class GlueTable:
    """One catalog table at one S3 location, as Glue should know it."""

    database: str
    table: catalog.Table
    location: str  # s3://... ending in '/'
    partition_folders: tuple[str, ...]  # per partition key, the folder name with ${key} for its value

    @property
    def data_columns(self) -> tuple[catalog.Column, ...]:
        return tuple(c for c in self.table.columns if c.name not in self.table.partition_keys)

    @property
    def partition_columns(self) -> tuple[catalog.Column, ...]:
        return tuple(self.table.column(k) for k in self.table.partition_keys)

    def parameters(self) -> dict[str, str]:
        params = {"classification": "parquet"}
        if self.table.partition_keys:
            params["projection.enabled"] = "true"
            for key in self.table.partition_keys:
                if key not in PROJECTIONS:
                    raise ValueError(f"No partition projection for {self.database}.{self.table.name}.{key}: add it to deploy.glue.PROJECTIONS")
                params.update(PROJECTIONS[key].properties(key))
            params["storage.location.template"] = self.location + "/".join(self.partition_folders) + "/"
        return params


def lakehouse_table(root: str, lakehouse: catalog.Lakehouse, table: catalog.Table) -> GlueTable:
    """`table` in the lakehouse layout under `root` (s3://bucket/prefix, no trailing slash)."""
    database = lakehouse.default_database
    return GlueTable(database, table, f"{root}/{database}/{table.name}/", tuple(f"{k}=${{{k}}}" for k in table.partition_keys))


def cur_export_table(export_data_uri: str) -> GlueTable:
    """The CUR table read in place from a CUR 2.0 Data Export's `data/` folder (s3://.../{export name}/data)."""
    return GlueTable(catalog.CUR.default_database, catalog.CUR.table("cur"), f"{export_data_uri}/", (CUR_EXPORT_PARTITION_FOLDER,))


def lakehouse_tables(root: str) -> list[GlueTable]:
    return [lakehouse_table(root, lh, t) for lh in catalog.LAKEHOUSES.values() for t in lh.tables]


def _glue_column(column: catalog.Column) -> dict:
    spec = {"Name": column.name, "Type": glue_type(column)}
    if column.description:
        spec["Comment"] = column.description
    return spec


def table_input(t: GlueTable) -> dict:
    """The Glue `TableInput` (the shape of `AWS::Glue::Table` and of glue:CreateTable)."""
    return {
        "Name": t.table.name,
        "Description": t.table.description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": t.parameters(),
        "PartitionKeys": [_glue_column(c) for c in t.partition_columns],
        "StorageDescriptor": {
            "Columns": [_glue_column(c) for c in t.data_columns],
            "Location": t.location,
            "InputFormat": PARQUET_INPUT_FORMAT,
            "OutputFormat": PARQUET_OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
    }


def _literal(text: str) -> str:
    """A Hive DDL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _column_ddl(column: catalog.Column) -> str:
    comment = f" COMMENT {_literal(column.description)}" if column.description else ""
    return f"  `{column.name}` {glue_type(column)}{comment}"


def create_table_sql(t: GlueTable) -> str:
    """Athena DDL for the table (one statement: Athena runs one at a time)."""
    lines = [f"CREATE EXTERNAL TABLE IF NOT EXISTS `{t.database}`.`{t.table.name}` ("]
    lines.append(",\n".join(_column_ddl(c) for c in t.data_columns))
    lines.append(")")
    lines.append(f"COMMENT {_literal(t.table.description)}")
    if t.partition_columns:
        lines.append("PARTITIONED BY (\n" + ",\n".join(_column_ddl(c) for c in t.partition_columns) + "\n)")
    lines.append("STORED AS PARQUET")
    lines.append(f"LOCATION {_literal(t.location)}")
    props = ",\n".join(f"  {_literal(k)} = {_literal(v)}" for k, v in t.parameters().items())
    lines.append(f"TBLPROPERTIES (\n{props}\n);")
    return "\n".join(lines)


def database_sql(lakehouse: catalog.Lakehouse, root: str) -> str:
    """deploy/glue/<database>.sql: the database and its tables in the lakehouse layout under `root`."""
    database = lakehouse.default_database
    statements = [f"CREATE DATABASE IF NOT EXISTS `{database}`\nCOMMENT {_literal(lakehouse.title + ' lakehouse of DAIVI Lakehouse Explorer')};"]
    statements += [create_table_sql(lakehouse_table(root, lakehouse, t)) for t in lakehouse.tables]
    if lakehouse is catalog.CUR:
        export = create_table_sql(cur_export_table("s3://<export bucket>/<prefix>/<export name>/data"))
        statements.append(
            "-- Or read a CUR 2.0 Data Export where AWS writes it (Parquet, folders BILLING_PERIOD=YYYY-MM):\n"
            + "\n".join("-- " + line for line in export.splitlines())
        )
    return "\n\n".join(statements) + "\n"
