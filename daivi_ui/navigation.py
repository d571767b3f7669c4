"""The app's views, and which of them a principal may use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daivi_data.governance import RoleGrants

VIEWS_DIR = Path(__file__).resolve().parent.parent / "views"


@dataclass(frozen=True)
class View:
    script: str  # file name under views/
    title: str
    icon: str
    url_path: str
    lakehouses: tuple[str, ...]  # shown when the principal may read any of these
    section: str = "Views"
    capability: str = ""  # when set, only roles the grants file gives this capability see the view

    @property
    def path(self) -> Path:
        return VIEWS_DIR / self.script


HOME = View("home.py", "Home", ":material/home:", "home", (), section="")

VIEWS: tuple[View, ...] = (
    View("cost_explorer.py", "Cost Explorer", ":material/payments:", "cost-explorer", ("billing",)),
    View("cur.py", "CUR drill-down", ":material/receipt_long:", "cur", ("cur",)),
    View("inventory.py", "Inventory", ":material/inventory_2:", "inventory", ("inventory",)),
    View("logs.py", "Logs", ":material/manage_search:", "logs", ("splunk",)),
    View("workbench.py", "SQL workbench", ":material/terminal:", "workbench", ("billing", "cur", "inventory", "splunk"), section="Tools"),
    # Replacing the embedded lakehouse affects everyone: the page itself admits only roles with the
    # `import` capability (config/grants.toml), on DuckDB only.
    View("import_data.py", "Import data", ":material/upload_file:", "import", ("billing", "cur", "inventory", "splunk"),
         section="Tools", capability="import"),
)


def views_for(grants: RoleGrants) -> list[View]:
    """Views whose script exists and whose data the role may read."""
    return [
        v for v in VIEWS
        if v.path.exists()
        and any(grants.can_read_lakehouse(lh) for lh in v.lakehouses)
        and (not v.capability or grants.has_capability(v.capability))
    ]


def view_for_lakehouse(key: str, grants: RoleGrants) -> View | None:
    for v in views_for(grants):
        if v.lakehouses == (key,):
            return v
    return None


def views_not_for(grants: RoleGrants) -> list[View]:
    """Views whose script exists but the role may not use: their links open on `not_allowed_reason`, not "Page not found"."""
    allowed = views_for(grants)
    return [v for v in VIEWS if v.path.exists() and v not in allowed]


def not_allowed_reason(view: View, grants: RoleGrants) -> str:
    """Why the role may not use a view, in a sentence (a shared link must not read as a broken one)."""
    if view.capability and not grants.has_capability(view.capability) and any(grants.can_read_lakehouse(lh) for lh in view.lakehouses):
        return f"{view.title} is not available to your role (`{grants.role}`): it needs the `{view.capability}` capability."
    lakehouses = " or ".join(f"`{lh}`" for lh in view.lakehouses)
    return f"{view.title} is not available to your role (`{grants.role}`): it has no grant on the {lakehouses} lakehouse."

