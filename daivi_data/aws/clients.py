"""How every AWS client of the app is configured (region, retries, timeouts), from the settings alone.

Its own module so that code which only needs a client (Lake Formation's plan/apply)
does not import the credential provider, which reads the grants file: that arrow
closed the import cycle aws.credentials -> governance (its CLI) -> lakeformation -> aws.credentials.
"""

from __future__ import annotations

import botocore.config

from daivi_data.settings import Settings


def retry_config(settings: Settings) -> botocore.config.Config:
    """Adaptive client-side rate limiting plus exponential backoff on throttling, for every AWS client."""
    return botocore.config.Config(
        region_name=settings.athena.region,
        retries={"mode": "adaptive", "max_attempts": settings.athena.max_attempts},
        connect_timeout=10,
        read_timeout=60,
    )
