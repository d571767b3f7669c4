"""One vocabulary across views: the names people know for AWS services, whatever column a lakehouse holds.

Cost Explorer (the billing lakehouse) has service names ("Amazon Elastic Compute
Cloud"); the CUR has product codes (`AmazonEC2`). Views show the name and keep
the code where it is a key (the CUR drill path in the URL).
"""

from __future__ import annotations

import pandas as pd

from daivi_data.lakehouse import SERVICE_NAMES  # AWS's own names for its product codes


def service_name(code) -> str:
    """The service's name for a product code; an unknown code (or a name already) as it is, a blank for none."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return ""
    return SERVICE_NAMES.get(str(code), str(code))


def with_service_names(df: pd.DataFrame, column: str = "service") -> pd.DataFrame:
    """A copy of `df` whose `column` of product codes reads as service names."""
    if column not in df.columns:
        return df
    return df.assign(**{column: df[column].map(service_name)})


def account_label(account_id, name=None) -> str:
    """An account as every view writes it: "payments-prod (411111111101)", or the id alone when the name is unknown."""
    account_id = "" if account_id is None else str(account_id)
    name = "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name).strip()
    return f"{name} ({account_id})" if name else account_id
