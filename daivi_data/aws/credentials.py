"""Per-principal AWS credentials: every query runs as the signed-in user's own IAM role.

`CredentialProvider.session_for(principal)` returns a boto3 session with
temporary credentials of that principal's role, from STS `AssumeRole` (the
app's own role calls it, with `RoleSessionName` and `SourceIdentity` = the
user, so CloudTrail and Lake Formation audit name the person) or from
`AssumeRoleWithWebIdentity` with the user's OIDC id token. Credentials are
cached per principal (by `Principal.cache_key`), refreshed shortly before they
expire, and never shared: two principals never get the same session object or
cache entry. Nothing here logs a key, secret or token.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import boto3
import botocore.config
import botocore.exceptions

from daivi_data.aws.errors import daivi_error
from daivi_data.errors import AccessDenied, NotSignedIn, SettingsError
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.settings import Settings

log = logging.getLogger(__name__)

REFRESH_BEFORE_EXPIRY_S = 300  # renew this long before STS says the credentials expire
MAX_CACHED_PRINCIPALS = 1000
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")


def session_name_for(principal: Principal) -> str:
    """The user, as STS allows it in RoleSessionName / SourceIdentity: 2-64 of [\\w+=,.@-], not starting 'aws:'."""
    raw = principal.email or principal.user_id
    name = _SESSION_NAME_CHARS.sub("-", raw)[:64]
    if name.lower().startswith("aws"):
        name = f"u-{name}"[:64]
    return name if len(name) >= 2 else f"user-{name}"


def retry_config(settings: Settings) -> botocore.config.Config:
    """Adaptive client-side rate limiting plus exponential backoff on throttling, for every AWS client."""
    return botocore.config.Config(
        region_name=settings.athena.region,
        retries={"mode": "adaptive", "max_attempts": settings.athena.max_attempts},
        connect_timeout=10,
        read_timeout=60,
    )


@dataclass
class _Entry:
    session: boto3.Session
    expires_at: float  # epoch seconds


class CredentialProvider:
    """boto3 sessions of each principal's role, cached per principal until shortly before expiry."""

    def __init__(self, settings: Settings, *, base_session: Callable[[], boto3.Session] | None = None,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self._base_session = base_session or (lambda: boto3.Session(region_name=settings.athena.region))
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.assume_calls = 0  # how many times STS was asked (for tests and the stats page)

    def role_arn_for(self, principal: Principal) -> str:
        """The IAM role of the principal: from the role mapping, else the grants file's role_arn."""
        arn = principal.role_arn
        if not arn:
            arn = load_policy(self.settings.grants_file).for_role(principal.role).role_arn
        if not arn:
            raise SettingsError(
                f"Role `{principal.role}` has no IAM role ARN: set `role_arn` in `daivi.role_mappings` or in the grants file."
            )
        if not _ROLE_ARN.fullmatch(arn):
            raise SettingsError(f"`{arn}` (role `{principal.role}`) is not an IAM role ARN.")
        return arn

    def session_for(self, principal: Principal) -> boto3.Session:
        key = principal.cache_key
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry.expires_at - self._clock() > REFRESH_BEFORE_EXPIRY_S:
                return entry.session
        # Outside the lock: one slow STS call must not stall every other user.
        entry = self._assume(principal)
        with self._lock:
            if len(self._entries) >= MAX_CACHED_PRINCIPALS:
                self._evict()
            self._entries[key] = entry
        return entry.session

    def invalidate(self, principal: Principal) -> None:
        """Forget a principal's credentials (AWS said they expired): the next call assumes the role again."""
        with self._lock:
            self._entries.pop(principal.cache_key, None)

    def _evict(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at - now <= REFRESH_BEFORE_EXPIRY_S]:
            del self._entries[key]
        while len(self._entries) >= MAX_CACHED_PRINCIPALS:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].expires_at)]

    def _assume(self, principal: Principal) -> _Entry:
        role_arn = self.role_arn_for(principal)
        name = session_name_for(principal)
        duration = self.settings.athena.session_duration_s
        base = self._base_session()
        sts = base.client("sts", config=retry_config(self.settings))
        try:
            if self.settings.auth.web_identity:
                if not principal.web_identity_token:
                    raise NotSignedIn("No identity token from the sign-in to assume your role with. Sign out and sign in again.")
                response = sts.assume_role_with_web_identity(
                    RoleArn=role_arn, RoleSessionName=name, WebIdentityToken=principal.web_identity_token,
                    DurationSeconds=duration,
                )
            else:
                response = sts.assume_role(
                    RoleArn=role_arn, RoleSessionName=name, SourceIdentity=name, DurationSeconds=duration,
                )
        except botocore.exceptions.ClientError as e:
            error = daivi_error(e, action="assuming your role")
            if isinstance(error, AccessDenied):
                error = AccessDenied(
                    f"The app may not assume role {role_arn} for you. Its trust policy must allow the app "
                    "(sts:AssumeRole and sts:SetSourceIdentity, or sts:AssumeRoleWithWebIdentity)."
                )
            raise error from None
        except botocore.exceptions.BotoCoreError as e:
            raise daivi_error(e, action="assuming your role") from None
        self.assume_calls += 1
        creds = response["Credentials"]
        log.info("assumed %s for principal %s", role_arn, principal.user_id)
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.settings.athena.region,
        )
        return _Entry(session=session, expires_at=creds["Expiration"].timestamp())
