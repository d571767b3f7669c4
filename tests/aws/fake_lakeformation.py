"""Lake Formation as it really answers, for a boto3 client: grants kept, listed back in Lake Formation's own shapes.

moto lists a grant in the shape it was granted, which is exactly what hid the
bug: real Lake Formation lists SELECT on `Table{Name}` as
`TableWithColumns{Name, ColumnWildcard{}}`, SELECT on `Table{TableWildcard}`
as `TableWithColumns{Name: "ALL_TABLES", ColumnWildcard{}}`, DESCRIBE on
`Table{TableWildcard}` as `Table{Name: "ALL_TABLES", TableWildcard{}}`, and
writes `ColumnWildcard{}` without `ExcludedColumnNames` (terraform-provider-aws
records these in its Lake Formation permission filters). `ListPermissions`
answers per resource, a few items per page.

It hooks the client's `before-call` event, the mechanism botocore's Stubber
uses, and checks every request and every answer against the service model
(botocore's own validator), so a shape Lake Formation would refuse fails here too.
"""

from __future__ import annotations

import copy
from collections import defaultdict

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

ALL_TABLES = "ALL_TABLES"
PAGE_SIZE = 3  # small, so every listing is paged


class FakeLakeFormation:
    def __init__(self, client, catalog_id: str):
        self.client = client
        self.catalog_id = catalog_id
        self.grants: dict[tuple[str, str], set[str]] = defaultdict(set)  # (principal, listed resource repr) -> permissions
        self.listed: dict[str, dict] = {}  # listed resource repr -> the resource as listed
        self.filters: dict[str, dict] = {}  # name -> DataCellsFilter
        self.calls: list[tuple[str, dict]] = []
        self._pending: list[dict] = []
        # As botocore's Stubber does: the API parameters before they are serialized, then the answer instead of a call.
        client.meta.events.register_first("before-parameter-build.lakeformation.*", self._answer)
        client.meta.events.register("before-call.lakeformation.*", self._respond)

    # --- the shapes Lake Formation lists ---------------------------------------------------

    def listed_shape(self, resource: dict, permission: str) -> dict:
        """The resource as ListPermissions shows a grant of `permission` on `resource`."""
        cid = self.catalog_id
        if "Database" in resource:
            return {"Database": {"CatalogId": cid, "Name": resource["Database"]["Name"]}}
        if "DataCellsFilter" in resource:
            r = resource["DataCellsFilter"]
            return {"DataCellsFilter": {"TableCatalogId": cid, "DatabaseName": r["DatabaseName"],
                                        "TableName": r["TableName"], "Name": r["Name"]}}
        if "TableWithColumns" in resource:
            r = {k: v for k, v in resource["TableWithColumns"].items() if k != "CatalogId"}
            return {"TableWithColumns": {"CatalogId": cid, **r}}
        r = resource["Table"]
        name = ALL_TABLES if "TableWildcard" in r else r["Name"]
        if permission == "SELECT":
            return {"TableWithColumns": {"CatalogId": cid, "DatabaseName": r["DatabaseName"], "Name": name,
                                         "ColumnWildcard": {}}}
        table = {"CatalogId": cid, "DatabaseName": r["DatabaseName"], "Name": name}
        if "TableWildcard" in r:
            table["TableWildcard"] = {}
        return {"Table": table}

    @staticmethod
    def _matches(query: dict, listed: dict) -> bool:
        """Whether ListPermissions(Resource=query) includes a grant listed as `listed`."""
        if "Database" in query:
            return "Database" in listed and listed["Database"]["Name"] == query["Database"]["Name"]
        if "DataCellsFilter" in query:
            q, r = query["DataCellsFilter"], listed.get("DataCellsFilter")
            return r is not None and (r["DatabaseName"], r["TableName"], r["Name"]) == (q["DatabaseName"], q["TableName"], q["Name"])
        q = query["Table"]
        name = ALL_TABLES if "TableWildcard" in q else q["Name"]
        r = listed.get("Table") or listed.get("TableWithColumns")
        return r is not None and r["DatabaseName"] == q["DatabaseName"] and r["Name"] == name

    def hold(self, principal: str, resource: dict, permission: str) -> None:
        listed = self.listed_shape(resource, permission)
        key = repr(sorted(_flatten(listed)))
        self.listed[key] = listed
        self.grants[(principal, key)].add(permission)

    # --- the API ------------------------------------------------------------------------------

    def _answer(self, model, params, **_):
        operation = model.name
        validate_parameters(params, model.input_shape)
        self.calls.append((operation, copy.deepcopy(params)))
        response = getattr(self, f"_{operation}")(params)
        if model.output_shape is not None:
            validate_parameters(response, model.output_shape)
        self._pending.append({"ResponseMetadata": {"HTTPStatusCode": 200}, **response})

    def _respond(self, **_):
        return AWSResponse("https://lakeformation.invalid", 200, {}, None), self._pending.pop(0)

    def _ListPermissions(self, params: dict) -> dict:
        query = params.get("Resource")  # without one: everything the caller may see
        items = [{"Principal": {"DataLakePrincipalIdentifier": principal}, "Resource": copy.deepcopy(self.listed[key]),
                  "Permissions": sorted(perms), "PermissionsWithGrantOption": []}
                 for (principal, key), perms in sorted(self.grants.items())
                 if perms and (query is None or self._matches(query, self.listed[key]))]
        start = int(params.get("NextToken", "0"))
        page = {"PrincipalResourcePermissions": items[start:start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(items):
            page["NextToken"] = str(start + PAGE_SIZE)
        return page

    def _GrantPermissions(self, params: dict) -> dict:
        for permission in params["Permissions"]:
            self.hold(params["Principal"]["DataLakePrincipalIdentifier"], params["Resource"], permission)
        return {}

    def _RevokePermissions(self, params: dict) -> dict:
        principal = params["Principal"]["DataLakePrincipalIdentifier"]
        for permission in params["Permissions"]:
            key = repr(sorted(_flatten(self.listed_shape(params["Resource"], permission))))
            if permission not in self.grants.get((principal, key), set()):
                raise AssertionError(f"revoke of a permission Lake Formation does not hold: {permission} {params['Resource']}")
            self.grants[(principal, key)].discard(permission)
        return {}

    def _ListDataCellsFilter(self, params: dict) -> dict:
        items = [copy.deepcopy(f) for _, f in sorted(self.filters.items())]
        start = int(params.get("NextToken", "0"))
        page = {"DataCellsFilters": items[start:start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(items):
            page["NextToken"] = str(start + PAGE_SIZE)
        return page

    def _stored_filter(self, data: dict) -> dict:
        stored = copy.deepcopy(data)
        wildcard = stored.get("ColumnWildcard")
        if wildcard is not None and not wildcard.get("ExcludedColumnNames"):
            stored["ColumnWildcard"] = {}  # listed without ExcludedColumnNames when there are none
        return stored

    def _CreateDataCellsFilter(self, params: dict) -> dict:
        self.filters[params["TableData"]["Name"]] = self._stored_filter(params["TableData"])
        return {}

    def _UpdateDataCellsFilter(self, params: dict) -> dict:
        assert params["TableData"]["Name"] in self.filters
        self.filters[params["TableData"]["Name"]] = self._stored_filter(params["TableData"])
        return {}

    def _DeleteDataCellsFilter(self, params: dict) -> dict:
        del self.filters[params["Name"]]
        return {}


def _flatten(value, prefix: str = ""):
    """A nested dict as (path, leaf) pairs, to key listed resources."""
    if isinstance(value, dict):
        if not value:
            yield (prefix, "{}")
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}/{k}")
    elif isinstance(value, list):
        yield (prefix, repr(sorted(value)))
    else:
        yield (prefix, value)
