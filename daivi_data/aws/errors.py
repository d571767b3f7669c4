"""AWS failures (botocore, awswrangler, Athena's FAILED reasons) as the data module's typed errors.

One function, `daivi_error`, turns whatever AWS raised into a `DaiviError`
whose message a person can act on: which table or column Lake Formation
refused, Athena's own reason for a failed query, which database or table is
missing. Messages are scrubbed of anything that looks like a credential.
"""

from __future__ import annotations

import re

import botocore.exceptions
from awswrangler import exceptions as wr_exceptions

from daivi_data.errors import AccessDenied, DaiviError, DataUnavailable, NotSignedIn, QueryFailed, Throttled

THROTTLING_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
    "SlowDown", "ProvisionedThroughputExceededException",
})
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId"})
MAX_REASON_CHARS = 400

# Access key ids, secret-looking base64 runs, and JWTs never reach a message.
_SECRET_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b"),
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    # Secret access keys are 40 base64 characters; session tokens are hundreds. S3 paths break on '-' and '.'.
    re.compile(r"(?<![\w/+=-])[A-Za-z0-9/+]{40}(?![\w/+=-])"),
    re.compile(r"[A-Za-z0-9/+]{100,}={0,2}"),
)
_LF_TABLE = re.compile(r"Lake Formation permission\(s\) on ([\w.\"`-]+)", re.IGNORECASE)
_SCHEMA_MISSING = re.compile(r"Schema '?([\w.-]+)'? does not exist", re.IGNORECASE)
_TABLE_MISSING = re.compile(r"Table '?([\w.-]+)'? does not exist", re.IGNORECASE)
_COLUMN_MISSING = re.compile(r"Column '([\w.]+)' cannot be resolved", re.IGNORECASE)


def scrub(text: str) -> str:
    """`text` without anything that looks like a credential or a token, on one bounded line."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    text = " ".join(text.split())
    return text[:MAX_REASON_CHARS] + ("…" if len(text) > MAX_REASON_CHARS else "")


def error_code(error: BaseException) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def is_throttling(error: BaseException) -> bool:
    return error_code(error) in THROTTLING_CODES or "ThrottlingException" in str(error)


def is_expired_credentials(error: BaseException) -> bool:
    return error_code(error) in EXPIRED_CODES or "security token included in the request is expired" in str(error).lower()


def failed_query_error(reason: str, *, excluded_columns: dict[str, str] | None = None) -> DaiviError:
    """The error for an Athena query that ended FAILED with `reason` (its StateChangeReason).

    Lake Formation hides columns a role may not read, so Athena reports them as
    unresolvable; `excluded_columns` (column -> table of the role's grants)
    turns that into the access message it really is.
    """
    reason = scrub(reason or "no reason given")
    if match := _LF_TABLE.search(reason):
        table = match.group(1).strip("`\"")
        return AccessDenied(f"Lake Formation denies your role access to {table}. Ask the data platform team for access.")
    if "AccessDenied" in reason or "Access denied" in reason or "not authorized" in reason:
        return AccessDenied(f"AWS refused the query: {reason}")
    if match := _COLUMN_MISSING.search(reason):
        column = match.group(1).split(".")[-1].lower()
        if excluded_columns and column in excluded_columns:
            return AccessDenied(f"Your role may not read column {column} of {excluded_columns[column]}.")
    if match := _SCHEMA_MISSING.search(reason):
        return DataUnavailable(f"Database {match.group(1)} does not exist in the Glue Data Catalog. Check `daivi.databases` in the settings.")
    if match := _TABLE_MISSING.search(reason):
        return DataUnavailable(f"Table {match.group(1)} does not exist in the Glue Data Catalog. Check `daivi.databases` in the settings.")
    return QueryFailed(f"Athena: {reason}")


def daivi_error(error: BaseException, *, action: str = "the query", excluded_columns: dict[str, str] | None = None) -> DaiviError:
    """The typed, user-facing error for an exception raised by boto3/botocore/awswrangler."""
    if isinstance(error, DaiviError):
        return error
    if isinstance(error, wr_exceptions.QueryFailed):
        return failed_query_error(str(error).removeprefix("Query error: "), excluded_columns=excluded_columns)
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        if action == "assuming your role":
            return NotSignedIn("The app has no AWS credentials to assume your role. Ask the platform team to check the app's IAM role.")
        return DataUnavailable(f"There are no AWS credentials for {action}: run with an IAM role, a profile or environment credentials.")
    if isinstance(error, botocore.exceptions.ClientError):
        code = error_code(error)
        message = scrub(str(error.response.get("Error", {}).get("Message", "")))
        if code in THROTTLING_CODES:
            return Throttled(f"AWS is throttling requests ({code}) and {action} did not get through after retries. Wait a minute and try again.")
        if code in EXPIRED_CODES:
            return NotSignedIn("Your AWS session expired and could not be renewed. Sign out and sign in again.")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            if match := _LF_TABLE.search(message):
                return AccessDenied(f"Lake Formation denies your role access to {match.group(1)}. Ask the data platform team for access.")
            return AccessDenied(f"AWS denied {action}: {message or code}.")
        if code == "EntityNotFoundException":
            return DataUnavailable(f"Not found in the Glue Data Catalog: {message}.")
        if code == "InvalidRequestException":
            return failed_query_error(message, excluded_columns=excluded_columns)
        return QueryFailed(f"AWS error {code} during {action}: {message}".rstrip(": ") + ".")
    if isinstance(error, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                          botocore.exceptions.ReadTimeoutError)):
        return DataUnavailable(f"AWS could not be reached for {action}. Check the network and `daivi.athena.region`.")
    if isinstance(error, wr_exceptions.InvalidArgumentValue | wr_exceptions.InvalidArgument):
        return QueryFailed(f"Invalid request for {action}: {scrub(str(error))}")
    if isinstance(error, botocore.exceptions.BotoCoreError):
        return QueryFailed(f"AWS error during {action}: {scrub(str(error))}")
    return QueryFailed(f"{action.capitalize()} failed: {scrub(str(error))}")
