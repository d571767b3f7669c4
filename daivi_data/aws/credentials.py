"""Per-principal AWS credentials: every query runs as the signed-in user's own IAM role.

`CredentialProvider.session_for(principal)` returns a boto3 session with
temporary credentials of that principal's role, from STS `AssumeRole`: the
app's own role calls it, with `RoleSessionName` and `SourceIdentity` naming the
user (`session_name_for`), so CloudTrail and Lake Formation audit name the
person. There is no web identity federation: the browser never holds anything
that can assume a role (an OIDC id token in Streamlit's signed, readable auth
cookie would be such a thing).

Role ARNs come from one place, the grants file (`role_arn` of each role);
`check_role_arns` proves at start-up that every role the sign-in can hand out
has one. `results_user_id(principal)` is the session's `aws:userid`
(`AROA…:RoleSessionName`, from AssumeRole's `AssumedRoleUser.AssumedRoleId`):
the app puts the user's Athena results under that prefix, the one IAM
policy variables let the role's policy confine the session to
(`daivi_data.aws.policies.results_access_policy`).

Credentials are cached per principal (by `Principal.cache_key`), refreshed
shortly before they expire, and never shared: two principals never get the
same session object or cache entry. Nothing here logs a key, secret or token.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import boto3
import botocore.config
import botocore.exceptions

from daivi_data.aws.clients import retry_config  # also imported from here by the Athena engine
from daivi_data.aws.errors import daivi_error
from daivi_data.errors import AccessDenied, SettingsError
from daivi_data.governance import Policy, load_policy
from daivi_data.identity import Principal
from daivi_data.settings import Settings

log = logging.getLogger(__name__)

REFRESH_BEFORE_EXPIRY_S = 300  # renew this long before STS says the credentials expire
MAX_CACHED_PRINCIPALS = 1000
# STS's alphabet for RoleSessionName and SourceIdentity: [\w+=,.@-], where \w is ASCII only.
_NOT_STS_CHARS = re.compile(r"[^A-Za-z0-9_+=,.@-]+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
STS_NAME_MAX = 64
_HASH_CHARS = 12  # 48 bits of the identity: unique per user, whatever the readable part loses


def session_name_for(principal: Principal) -> str:
    """The user, as STS accepts it in RoleSessionName and SourceIdentity: 2-64 of [A-Za-z0-9_+=,.@-].

    A readable ASCII form of the e-mail (accents folded, anything else '-'),
    cut to fit, then '-' and a short hash of the whole identity: deterministic,
    and two users never share a name even when their readable parts do.
    """
    email = principal.email.strip().lower()
    identity = f"email:{email}" if email else f"id:{principal.user_id}"
    folded = unicodedata.normalize("NFKD", email or principal.user_id).encode("ascii", "ignore").decode()
    readable = _NOT_STS_CHARS.sub("-", folded).strip("-.@_")[: STS_NAME_MAX - _HASH_CHARS - 1]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:_HASH_CHARS]
    return f"{readable}-{digest}" if readable else f"u-{digest}"


def check_role_arns(settings: Settings, policy: Policy) -> dict[str, str]:
    """{role: IAM role ARN} for every role the sign-in can hand out; SettingsError naming the first gap.

    Roles come from `daivi.role_mappings` and `daivi.default_role`; their ARNs
    only from the grants file. Run at start-up on Athena, so a typo surfaces
    before the first user does.
    """
    roles = {m.role: f"daivi.role_mappings ({m.role})" for m in settings.role_mappings}
    if settings.default_role:
        roles.setdefault(settings.default_role, "daivi.default_role")
    arns: dict[str, str] = {}
    for role, where in roles.items():
        grants = policy.roles.get(role)
        if grants is None:
            raise SettingsError(f"Role `{role}` ({where}) is not in the grants file {settings.grants_file.name}.")
        if not grants.role_arn:
            raise SettingsError(f"Role `{role}` has no `role_arn` in the grants file {settings.grants_file.name}: "
                                "on Athena every role needs its IAM role.")
        if not _ROLE_ARN.fullmatch(grants.role_arn):
            raise SettingsError(f"`{grants.role_arn}` (role `{role}` in the grants file) is not an IAM role ARN.")
        arns[role] = grants.role_arn
    return arns


@dataclass
class _Entry:
    session: boto3.Session
    expires_at: float  # epoch seconds
    user_id: str  # the session's aws:userid, "AROA…:RoleSessionName"


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
        self._policy = load_policy(settings.grants_file)
        check_role_arns(settings, self._policy)

    def role_arn_for(self, principal: Principal) -> str:
        """The IAM role of the principal's grants role, from the grants file (the one source of role ARNs)."""
        grants = self._policy.roles.get(principal.role)
        arn = grants.role_arn if grants else ""
        if not arn:
            raise SettingsError(f"Role `{principal.role}` has no `role_arn` in the grants file {self.settings.grants_file.name}.")
        if not _ROLE_ARN.fullmatch(arn):
            raise SettingsError(f"`{arn}` (role `{principal.role}`) is not an IAM role ARN.")
        return arn

    def session_for(self, principal: Principal) -> boto3.Session:
        return self._entry(principal).session

    def results_user_id(self, principal: Principal) -> str:
        """The `aws:userid` of the principal's role session ("AROA…:RoleSessionName"): its results prefix."""
        return self._entry(principal).user_id

    def _entry(self, principal: Principal) -> _Entry:
        key = principal.cache_key
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry.expires_at - self._clock() > REFRESH_BEFORE_EXPIRY_S:
                return entry
        # Outside the lock: one slow STS call must not stall every other user.
        entry = self._assume(principal)
        with self._lock:
            if len(self._entries) >= MAX_CACHED_PRINCIPALS:
                self._evict()
            self._entries[key] = entry
        return entry

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
            response = sts.assume_role(RoleArn=role_arn, RoleSessionName=name, SourceIdentity=name, DurationSeconds=duration)
        except botocore.exceptions.ClientError as e:
            error = daivi_error(e, action="assuming your role")
            if isinstance(error, AccessDenied):
                error = AccessDenied(
                    f"The app may not assume role {role_arn} for you. Its trust policy must allow the app "
                    "(sts:AssumeRole and sts:SetSourceIdentity: daivi_data.aws.policies.role_trust_policy)."
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
        # AssumedRoleId is the session's aws:userid (the same value GetCallerIdentity returns as UserId).
        user_id = response["AssumedRoleUser"]["AssumedRoleId"]
        return _Entry(session=session, expires_at=creds["Expiration"].timestamp(), user_id=user_id)
