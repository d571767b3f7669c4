"""Inventory analysis without data: tag search parsing, snapshot diffs, tag compliance, waste rules."""

import datetime as dt
import math

import pandas as pd
import pytest

from daivi_data import inventory_analysis as ia
from daivi_data.errors import InvalidRequest

SNAP = dt.date(2026, 6, 30)


# --- tag search -------------------------------------------------------------------------------

def test_parse_tag_search_all_forms():
    conds = ia.parse_tag_search(" team=payments , !cost-center,owner, environment!=prod, Name=web=01 ")
    assert conds == (
        ia.TagCondition("team", ia.TAG_EQUALS, "payments"),
        ia.TagCondition("cost-center", ia.TAG_MISSING),
        ia.TagCondition("owner", ia.TAG_EXISTS),
        ia.TagCondition("environment", ia.TAG_NOT_EQUALS, "prod"),
        ia.TagCondition("Name", ia.TAG_EQUALS, "web=01"),  # split on the first '=' only
    )
    assert [c.describe() for c in conds] == ["team=payments", "!cost-center", "owner", "environment!=prod", "Name=web=01"]


def test_parse_tag_search_keeps_metacharacters_literal():
    (cond,) = ia.parse_tag_search("app=%_.*'; DROP TABLE x")
    assert cond == ia.TagCondition("app", ia.TAG_EQUALS, "%_.*'; DROP TABLE x")


@pytest.mark.parametrize("text", ["", "   ", ",,", None])
def test_parse_tag_search_empty(text):
    assert ia.parse_tag_search(text) == ()


@pytest.mark.parametrize(("text", "message"), [("=payments", "no tag key"), ("!", "no tag key"), (" != x", "no tag key"),
                                               (",".join(f"k{i}" for i in range(11)), "At most 10")])
def test_parse_tag_search_rejects_bad_input_with_a_message(text, message):
    with pytest.raises(InvalidRequest, match=message):
        ia.parse_tag_search(text)


def test_normalize_search_text():
    assert ia.normalize_search_text("  I-0AbC%_ ") == "i-0abc%_"
    with pytest.raises(InvalidRequest, match="longer than"):
        ia.normalize_search_text("x" * 201)


def test_tag_dict_and_format_from_engine_shapes():
    assert ia.as_tag_dict({"b": "2", "a": "1"}) == {"a": "1", "b": "2"}
    assert ia.as_tag_dict({"key": ["a"], "value": ["1"]}) == {"a": "1"}
    assert ia.as_tag_dict([("a", "1")]) == {"a": "1"}
    assert ia.as_tag_dict(None) == {} and ia.as_tag_dict(float("nan")) == {}
    assert ia.format_tags({"team": "x", "Name": "web"}) == "Name=web; team=x"


# --- diffs ------------------------------------------------------------------------------------

def _snap(rows):
    base = {"resource_type": "AWS::EC2::Instance", "account_id": "1", "region": "us-east-1", "resource_name": None,
            "state": "running", "instance_type": "m5.large", "volume_type": None, "size_gb": None, "attached": None,
            "attached_to": None, "encrypted": None, "public": None, "tags": {}}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_diff_snapshots_created_deleted_changed():
    before = _snap([{"resource_id": "i-1"}, {"resource_id": "i-2", "tags": {"team": "a"}},
                    {"resource_id": "i-3", "size_gb": float("nan")}, {"resource_id": "i-4", "state": "running"}])
    after = _snap([{"resource_id": "i-2", "tags": {"team": "b", "env": "dev"}}, {"resource_id": "i-3", "size_gb": None},
                   {"resource_id": "i-4", "state": "stopped"}, {"resource_id": "i-5"}])
    diff = ia.diff_snapshots(before, after)
    assert list(zip(diff["resource_id"], diff["change"], strict=True)) == [
        ("i-5", "created"), ("i-1", "deleted"), ("i-2", "changed"), ("i-4", "changed")]
    i2 = diff.set_index("resource_id").loc["i-2"]
    assert i2["changed_fields"] == "tags"
    assert i2["details"] == "tags +env=dev, team: a → b"
    assert diff.set_index("resource_id").loc["i-4", "details"] == "state: running → stopped"
    assert ia.count_changes(diff) == {"created": 1, "deleted": 1, "changed": 2}


def test_diff_of_identical_snapshots_is_empty():
    snap = _snap([{"resource_id": "i-1", "tags": {"a": "1"}, "size_gb": 8.0}])
    diff = ia.diff_snapshots(snap, snap.copy())
    assert diff.empty and list(diff.columns)[:2] == ["resource_id", "resource_type"]
    assert ia.count_changes(diff) == {"created": 0, "deleted": 0, "changed": 0}


def test_history_changes_marks_gaps_and_changes():
    h = _snap([{"resource_id": "i-1", "state": "running"}, {"resource_id": "i-1", "state": "stopped"},
               {"resource_id": "i-1", "state": "stopped"}])
    h["snapshot_date"] = [dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 5)]
    out = ia.history_changes(h)
    assert list(out["change"]) == ["first seen", "changed", "seen again"]
    assert out["details"][1] == "state: running → stopped"
    assert "2 daily snapshot" in out["details"][2]


# --- tag compliance ---------------------------------------------------------------------------

def test_evaluate_tag_compliance_missing_blank_and_invalid():
    required = {"team": (), "environment": ("prod", "dev")}
    df = pd.DataFrame({
        "resource_id": ["a", "b", "c", "d"], "account_id": ["1", "1", "2", "2"], "resource_type": ["T", "T", "T", "U"],
        "resource_name": ["", "", "", ""],
        "tag_0": ["pay", None, "  ", "pay"], "tag_1": ["prod", "prod", "Prod", None],
    })
    out = ia.evaluate_tag_compliance(df, required, {"team": "tag_0", "environment": "tag_1"})
    assert list(out["compliant"]) == [True, False, False, False]
    assert list(out["missing"]) == ["", "team", "team", "environment"]
    assert list(out["invalid"]) == ["", "", "environment=Prod", ""]  # allowed values are case-sensitive
    assert ia.compliance_pct(out) == 25.0
    by_account = ia.compliance_by(out, "account_id")
    assert by_account.to_dict("records") == [
        {"account_id": "2", "resources": 2, "compliant": 0, "compliance_pct": 0.0},
        {"account_id": "1", "resources": 2, "compliant": 1, "compliance_pct": 50.0},
    ]


def test_compliance_of_nothing():
    empty = pd.DataFrame({"resource_id": [], "account_id": [], "resource_type": [], "resource_name": [], "tag_0": []})
    out = ia.evaluate_tag_compliance(empty, {"team": ()}, {"team": "tag_0"})
    assert out.empty and ia.compliance_pct(out) is None and ia.compliance_by(out, "account_id").empty


# --- waste ------------------------------------------------------------------------------------

def _candidates():
    base = {"account_id": "1", "region": "us-east-1", "resource_name": None, "state": None, "created_at": pd.Timestamp("2026-06-01"),
            "instance_type": None, "volume_type": None, "size_gb": None, "attached": None, "attached_to": None}
    rows = [
        {"resource_id": "vol-free", "resource_type": ia.EBS_VOLUME, "state": "available", "volume_type": "gp3", "size_gb": 100.0, "attached": False},
        {"resource_id": "vol-free-gp2", "resource_type": ia.EBS_VOLUME, "state": "available", "volume_type": "gp2", "size_gb": 50.0, "attached": False},
        {"resource_id": "vol-used-gp2", "resource_type": ia.EBS_VOLUME, "state": "in-use", "volume_type": "gp2", "size_gb": 20.0,
         "attached": True, "attached_to": "i-run"},
        {"resource_id": "vol-of-stopped", "resource_type": ia.EBS_VOLUME, "state": "in-use", "volume_type": "gp3", "size_gb": 30.0,
         "attached": True, "attached_to": "i-stop"},
        {"resource_id": "i-stop", "resource_type": ia.EC2_INSTANCE, "state": "stopped", "instance_type": "m5.large"},
        {"resource_id": "i-run", "resource_type": ia.EC2_INSTANCE, "state": "running", "instance_type": "m4.xlarge"},
        {"resource_id": "db-old", "resource_type": ia.RDS_INSTANCE, "state": "available", "instance_type": "db.r4.large"},
        {"resource_id": "eip-free", "resource_type": ia.ELASTIC_IP, "attached": False},
        {"resource_id": "eip-used", "resource_type": ia.ELASTIC_IP, "attached": True, "attached_to": "i-run"},
        {"resource_id": "snap-old", "resource_type": ia.EBS_SNAPSHOT, "created_at": pd.Timestamp("2025-01-01 10:00")},
        {"resource_id": "snap-new", "resource_type": ia.EBS_SNAPSHOT, "created_at": pd.Timestamp("2026-06-01")},
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


COSTS = pd.DataFrame({"resource_id": ["vol-free", "vol-free-gp2", "vol-used-gp2", "vol-of-stopped", "i-stop", "i-run", "eip-free", "snap-old", "db-old"],
                      "cost_30d": [8.0, 5.0, 2.0, 2.4, 0.5, 144.0, 3.6, 1.0, 120.0]})


def test_classify_waste_finds_each_rule_and_nothing_attached():
    findings = ia.classify_waste(_candidates(), SNAP, COSTS)
    by = {k: sorted(g["resource_id"]) for k, g in findings.groupby("category")}
    assert by == {
        ia.UNATTACHED_VOLUME: ["vol-free", "vol-free-gp2"],
        ia.STOPPED_INSTANCE: ["i-stop"],
        ia.UNASSOCIATED_EIP: ["eip-free"],
        ia.OLD_SNAPSHOT: ["snap-old"],
        ia.PREVIOUS_GENERATION: ["db-old", "i-run"],
        ia.GP2_VOLUME: ["vol-free-gp2", "vol-used-gp2"],
    }
    cost = findings.set_index(["category", "resource_id"])
    # a stopped instance keeps paying for its volumes (billed under their own ids) and its own leftovers
    assert cost.loc[(ia.STOPPED_INSTANCE, "i-stop"), "monthly_cost"] == pytest.approx(2.4 + 0.5)
    assert cost.loc[(ia.GP2_VOLUME, "vol-used-gp2"), "monthly_savings"] == pytest.approx(2.0 * 0.2)
    assert cost.loc[(ia.PREVIOUS_GENERATION, "i-run"), "monthly_savings"] == pytest.approx(14.4)
    assert cost.loc[(ia.UNATTACHED_VOLUME, "vol-free"), "monthly_savings"] == 8.0
    assert cost.loc[(ia.PREVIOUS_GENERATION, "i-run"), "reason"] == "m4.xlarge → m5 family"
    # vol-free-gp2 counts once, at its larger saving (delete it: 5.0, not 5.0 + 1.0)
    expected = 8.0 + 5.0 + 0.4 + 2.9 + 3.6 + 1.0 + 14.4 + 12.0
    assert ia.total_at_stake(findings) == pytest.approx(expected)
    summary = ia.waste_summary(findings).set_index("category")
    assert summary.loc[ia.GP2_VOLUME, "resources"] == 2
    assert summary.loc[ia.GP2_VOLUME, "monthly_savings"] == pytest.approx(1.4)


def test_classify_waste_without_cur_has_no_made_up_cost():
    findings = ia.classify_waste(_candidates(), SNAP, None)
    assert len(findings) == 9
    assert findings["monthly_cost"].isna().all() and findings["monthly_savings"].isna().all()
    assert ia.total_at_stake(findings) is None
    assert math.isnan(ia.waste_summary(findings)["monthly_savings"][0])


def test_classify_waste_resource_without_cur_lines_costs_zero():
    findings = ia.classify_waste(_candidates(), SNAP, COSTS[COSTS["resource_id"] != "eip-free"])
    eip = findings[findings["resource_id"] == "eip-free"]
    assert eip["monthly_cost"].tolist() == [0.0]


def test_classify_waste_of_nothing():
    empty = _candidates().iloc[0:0]
    assert ia.classify_waste(empty, SNAP, None).empty
    assert ia.total_at_stake(ia.classify_waste(empty, SNAP, None)) == 0.0


@pytest.mark.parametrize(("itype", "family", "previous"), [("m4.large", "m4", True), ("db.t2.micro", "t2", True),
                                                            ("m5.large", "m5", False), (None, "", False), ("t3a.nano", "t3a", False)])
def test_instance_family(itype, family, previous):
    assert ia.instance_family(itype) == family
    assert ia.is_previous_generation(itype) is previous


def test_snapshot_dates_helpers():
    days = [dt.date(2026, 6, d) for d in (1, 2, 3, 10, 20)]
    assert ia.nearest_snapshots(days, dt.date(2026, 6, 5)) == (dt.date(2026, 6, 3), dt.date(2026, 6, 10))
    assert ia.nearest_snapshots(days, dt.date(2026, 5, 1)) == (None, dt.date(2026, 6, 1))
    assert ia.default_compare_date(days, dt.date(2026, 6, 20), 7) == dt.date(2026, 6, 10)
    assert ia.default_compare_date(days, dt.date(2026, 6, 3), 7) == dt.date(2026, 6, 1)
    assert ia.default_compare_date(days, dt.date(2026, 6, 1), 7) is None
    assert ia.parse_iso_date("2026-02-30") is None and ia.parse_iso_date("x") is None
    assert ia.parse_iso_date("2026-02-28") == dt.date(2026, 2, 28)
    assert ia.old_snapshot_cutoff(SNAP, 180) == dt.datetime(2026, 1, 1)


# --- figures (daivi_ui/figures_inventory.py: pure builders, no Streamlit) -----------------------

def test_region_points_place_known_regions_and_name_the_rest():
    from daivi_ui import figures_inventory as fig

    counts = pd.DataFrame({"region": ["us-east-1", "us-east-1", "eu-west-1", "", "mars-1"], "resources": [3, 2, 4, 1, 1]})
    points, unplaced = fig.region_points(counts)
    assert points.set_index("region")["resources"].to_dict() == {"eu-west-1": 4, "us-east-1": 5}
    assert points.set_index("region").loc["eu-west-1", ["lat", "lon"]].tolist() == list(fig.REGION_COORDINATES["eu-west-1"])
    assert unplaced == ["global", "mars-1"]
    assert len(fig.build_region_map_figure(counts).data[0].lat) == 2


def test_bars_keep_the_largest_and_sum_the_rest():
    from daivi_ui import figures_inventory as fig

    counts = pd.DataFrame({"account_id": [f"a{i}" for i in range(20)], "resources": list(range(1, 21))})
    bars = fig.build_count_bar_figure(counts, "account_id", "x", top_n=3).data[0]
    assert list(bars.y) == ["17 others", "a17", "a18", "a19"]
    assert list(bars.x) == [sum(range(1, 18)), 18, 19, 20]


def test_trend_groups_small_types():
    from daivi_ui import figures_inventory as fig

    trend = pd.DataFrame({"snapshot_date": [SNAP] * 4, "resource_type": ["A", "B", "C", "D"], "resources": [10, 5, 2, 1]})
    figure = fig.build_trend_figure(trend, top_n=2)
    assert {t.name: list(t.y) for t in figure.data} == {"A": [10], "B": [5], "other types": [3]}


def test_account_labels_add_names_where_known():
    from daivi_ui import figures_inventory as fig

    frame = pd.DataFrame({"account_id": ["1", "2"], "resources": [1, 2]})
    assert fig.label_accounts(frame, {"1": "prod"})["account_id"].tolist() == ["prod (1)", "2"]  # as every view writes it
    assert fig.label_accounts(frame, {}) is frame
