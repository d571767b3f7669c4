"""Role extracts hold exactly the governed relation, and a role's database can open nothing else.

A restricted role (row filter or excluded columns) reads each such table from an
extract: the governed pyarrow dataset written once per lakehouse version and
grant (daivi_data/engines/role_extracts.py). These tests check it against the
dataset it was written from, row for row, for every persona and table; that the
role's own database (below governance's first two layers) cannot open the raw
table, another grant's extract or anything else; and how extracts are found,
keyed and swapped in while the app runs.
"""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest

from daivi_data.engines.duckdb import DuckDBEngine, governed_dataset
from daivi_data.engines.role_extracts import RoleExtracts, extract_key
from daivi_data.governance import load_policy, parse_policy
from daivi_data.queries import Query
from tests.helpers import PAYMENTS_ACCOUNT_IDS, PERSONA_ROLES, PERSONAS, principal

RESTRICTED = [(persona, db, table.name) for persona in PERSONAS
              for db, table, grant in load_policy(Path("config/grants.toml")).for_role(PERSONA_ROLES[persona]).readable_tables()
              if not grant.is_full]


def _role_database(engine: DuckDBEngine, persona: str):
    policy = engine.policy.current()
    return engine._database(policy.for_role(PERSONA_ROLES[persona]), policy)


def _scan(folder: Path) -> str:
    partitioned = any(p.is_dir() for p in folder.iterdir())
    pattern = f"{folder}/**/*.parquet" if partitioned else f"{folder}/*.parquet"
    return f"read_parquet('{pattern}', hive_partitioning = {str(partitioned).lower()})"


def test_the_demo_grants_restrict_tables_of_every_kind():
    """The cases below cover row filters, excluded columns and both at once."""
    assert {(p, t) for p, _db, t in RESTRICTED} >= {("teamlead", "cur"), ("teamlead", "resources"), ("finance", "resources"),
                                                    ("ops", "accounts"), ("teamlead", "events")}


@pytest.mark.parametrize(("persona", "database", "table"), RESTRICTED)
def test_an_extract_holds_exactly_the_governed_dataset(engine, small_lakehouse, persona, database, table):
    policy = engine.policy.current()
    grants = policy.for_role(PERSONA_ROLES[persona])
    grant = grants.grant_for(database, table)
    catalog_table = next(t for db, t, _g in grants.readable_tables() if (db, t.name) == (database, table))
    dataset = governed_dataset(small_lakehouse / database / table, catalog_table, grant, policy)
    _role_database(engine, persona)  # eager: builds the role's extracts
    key = extract_key(engine.data_version(), database, table, dataset.schema.names, grant.row_filter)
    assert engine.extracts.is_ready(key)
    folder = engine.extracts._dir / key
    con = duckdb.connect()
    con.register("governed", dataset)
    con.execute(f"CREATE VIEW extract AS SELECT * FROM {_scan(folder)}")  # noqa: S608 - the test's own paths
    assert con.execute("DESCRIBE extract").fetchall() == con.execute("DESCRIBE governed").fetchall()
    for excluded in grant.excluded_columns:
        assert excluded not in [c[0] for c in con.execute("DESCRIBE extract").fetchall()]
    total = con.execute("SELECT count(*) FROM governed").fetchall()[0][0]
    assert total > 0, "a restricted table of the demo holds rows for its persona"
    assert con.execute("SELECT count(*) FROM extract").fetchall()[0][0] == total
    for a, b in (("extract", "governed"), ("governed", "extract")):
        assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchall()[0][0] == 0  # noqa: S608


def test_the_team_leads_extracts_hold_only_payments_accounts(engine):
    got = engine.run(Query("t", "SELECT DISTINCT line_item_usage_account_id AS a FROM daivi_cur.cur"), principal("teamlead")).df
    assert set(got["a"]) and set(got["a"]) <= set(PAYMENTS_ACCOUNT_IDS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_role_database_cannot_open_what_the_role_may_not_read_whole(engine, small_lakehouse, persona):
    """Layer 3 alone: raw SQL on the role's own database (governance's parser and guard bypassed)."""
    database = _role_database(engine, persona)
    grants = database.grants
    forbidden = [small_lakehouse / db / t.name for db, t, g in grants.readable_tables() if not g.is_full]
    forbidden += [folder for folder in small_lakehouse.glob("daivi_*/*")
                  if grants.grant_for(folder.parent.name, folder.name) is None]
    forbidden += [small_lakehouse, small_lakehouse / "manifest.json", Path("/etc/passwd")]
    # Every extract that is not this role's: other grants of the same tables
    own = {Path(p).name for p in database.readable_folders}
    forbidden += [p for p in engine.extracts._dir.iterdir() if p.name not in own]
    assert forbidden
    cursor = database.cursor()
    try:
        for path in forbidden:
            target = f"{path}/**/*.parquet" if path.is_dir() else str(path)
            for sql in (f"SELECT count(*) FROM read_parquet('{target}')", f"SELECT count(*) FROM read_csv('{target}')",
                        f"SELECT * FROM glob('{target}')"):
                with pytest.raises(duckdb.Error):
                    rows = cursor.execute(sql).fetchall()
                    assert not rows or rows == [(0,)], sql  # an empty answer is no leak, but none is expected
    finally:
        cursor.close()


def test_extracts_live_in_a_private_folder_removed_with_the_engine(settings):
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="eager")
    engine.run(Query("t", "SELECT count(*) AS n FROM daivi_cur.cur"), principal("teamlead"))
    folder = engine.extracts._dir
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert any(folder.iterdir())
    engine.extracts.close()
    assert not folder.exists()


def test_the_key_changes_with_the_data_version_and_every_part_of_the_grant():
    base = ("v1", "daivi_cur", "cur", ["a", "b"], "a = '1'")
    keys = {extract_key(*base)}
    for i, other in enumerate(("v2", "daivi_billing", "cost_daily", ["a"], "a = '2'")):
        changed = list(base)
        changed[i] = other
        keys.add(extract_key(*changed))
    assert len(keys) == 6


def test_in_background_the_first_queries_read_the_dataset_and_later_ones_the_extract(settings):
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="background")
    query = Query("t", "SELECT line_item_usage_account_id AS a, sum(line_item_unblended_cost) AS c FROM daivi_cur.cur "
                       "GROUP BY 1 ORDER BY 1")
    first = engine.run(query, principal("teamlead")).df
    before = _role_database(engine, "teamlead")
    assert before.pending_extracts and not before.readable_folders  # the team lead reads no table whole
    engine.extracts.wait(timeout_s=120)
    after = _role_database(engine, "teamlead")
    assert after is not before and not after.pending_extracts
    assert all(Path(f).parent == engine.extracts._dir for f in after.readable_folders)
    again = engine.run(query, principal("teamlead")).df
    assert first["a"].tolist() == again["a"].tolist()
    assert first["c"].round(6).tolist() == again["c"].round(6).tolist()
    engine.extracts.close()


def test_an_edited_grant_reads_a_new_extract(settings, small_lakehouse):
    text = settings.grants_file.read_text()
    narrowed = text.replace(
        "row_filter = \"line_item_usage_account_id IN ('411111111101', '411111111102', '411111111103', '411111111104', '411111111105')\"",
        "row_filter = \"line_item_usage_account_id IN ('411111111101')\"")
    assert narrowed != text
    engine = DuckDBEngine(small_lakehouse, load_policy(settings.grants_file), role_extracts="eager")
    query = Query("t", "SELECT DISTINCT line_item_usage_account_id AS a FROM daivi_cur.cur")
    assert len(engine.run(query, principal("teamlead")).df) > 1
    engine.policy = parse_policy(narrowed.encode())
    assert engine.run(query, principal("teamlead")).df["a"].tolist() == ["411111111101"]
    engine.extracts.close()


def test_a_failed_build_is_tried_again_and_the_queries_still_answer(settings, monkeypatch):
    from daivi_data.engines import role_extracts

    calls = []

    def broken(spec, out):
        calls.append((spec.key, spec.table.name))
        raise OSError("disk full")

    monkeypatch.setattr(role_extracts, "_write_extract", broken)
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="background")
    engine.extracts.wait(timeout_s=60)
    assert len(calls) == len(set(calls)) == len(RESTRICTED)  # each tried once at the start
    query = Query("t", "SELECT count(*) AS n FROM daivi_inventory.resources")
    n = engine.run(query, principal("finance")).df["n"].iloc[0]
    engine.extracts.wait(timeout_s=60)
    assert not any(engine.extracts._dir.iterdir()), "no half-written extract is left behind"
    assert engine.run(query, principal("finance")).df["n"].iloc[0] == n
    engine.extracts.wait(timeout_s=60)
    tried_again = [c for c in calls[len(RESTRICTED):]]
    assert tried_again and {name for _key, name in tried_again} == {"resources"}  # finance's query scheduled it again
    engine.extracts.close()


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="background"):
        RoleExtracts("sometimes")


def test_in_background_every_roles_extracts_are_queued_when_the_engine_starts(settings):
    """Built before most people arrive: no query is needed to start them."""
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="background")
    engine.extracts.wait(timeout_s=120)
    built = {p.name for p in engine.extracts._dir.iterdir()}
    assert len(built) == len({(p, db, t) for p, db, t in RESTRICTED})  # the demo's restricted grants all differ
    for persona in PERSONAS:
        database = _role_database(engine, persona)
        assert not database.pending_extracts
        restricted = {t for p, _db, t in RESTRICTED if p == persona}
        assert len([f for f in database.readable_folders if Path(f).name in built]) == len(restricted)
    engine.extracts.close()


def test_an_extract_of_a_clustered_table_keeps_its_order_and_row_groups(engine):
    """Inventory is written sorted by resource id in small row groups (one resource's history skips the rest):
    the team lead's extract of it must keep that, or the skip is lost on the restricted path."""
    import pyarrow.parquet as pq

    from daivi_data.lakehouse.layout import CLUSTERED_ROW_GROUP_ROWS

    engine.run(Query("t", "SELECT count(*) AS n FROM daivi_inventory.resources"), principal("teamlead"))
    files = [f for f in engine.extracts._dir.rglob("snapshot_date=*/*.parquet")]
    assert files
    for file in files:
        meta = pq.ParquetFile(file).metadata
        column = meta.schema.to_arrow_schema().get_field_index("resource_id")
        bounds = [(meta.row_group(i).column(column).statistics.min, meta.row_group(i).column(column).statistics.max)
                  for i in range(meta.num_row_groups) if meta.row_group(i).num_rows]
        assert all(meta.row_group(i).num_rows <= CLUSTERED_ROW_GROUP_ROWS for i in range(meta.num_row_groups))
        assert all(lo <= hi for lo, hi in bounds) and all(a[1] <= b[0] for a, b in zip(bounds, bounds[1:], strict=False)), file


def test_a_broken_grants_file_still_opens_the_engine_and_every_query_fails_closed(settings, tmp_path):
    from daivi_data.errors import SettingsError
    from daivi_data.governance import PolicyStore

    broken = tmp_path / "grants.toml"
    broken.write_text("[roles.admin\n")
    engine = DuckDBEngine(settings.lakehouse_path, PolicyStore(broken), role_extracts="background")
    with pytest.raises(SettingsError):
        engine.run(Query("t", "SELECT 1 AS one FROM daivi_billing.accounts"), principal("admin"))
    engine.extracts.close()
