"""Typed settings, read once from `.streamlit/secrets.toml` and the environment.

Every setting has a default that needs no file at all: the embedded DuckDB
engine over `data/lakehouse`, demo personas, the grants in `config/grants.toml`.
A wrong value raises `SettingsError` naming the key, so the app can show one
clear line instead of a traceback.

Precedence: environment (`DAIVI_<KEY>`, e.g. `DAIVI_ENGINE=athena`) over the
`[daivi]` table of secrets.toml over defaults.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daivi_data.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("duckdb", "athena")
DEMO_SCALES = ("small", "medium", "large")
AUTH_MODES = ("demo", "oidc", "proxy")
ROLE_EXTRACT_MODES = ("background", "eager", "off")  # daivi_data/engines/role_extracts.py
DEFAULT_DATABASES = {
    "billing": "daivi_billing",
    "cur": "daivi_cur",
    "inventory": "daivi_inventory",
    "splunk": "daivi_splunk",
}


@dataclass(frozen=True)
class AthenaSettings:
    region: str = "us-east-1"
    workgroup: str = "primary"
    s3_output: str = ""  # s3://bucket/prefix/ ; a per-principal prefix is appended
    kms_key: str = ""  # SSE-KMS key id/ARN; empty = SSE-S3
    unload: bool = False  # UNLOAD to Parquet for large results
    price_per_tb_usd: float = 5.0
    catalog: str = "AwsDataCatalog"
    max_attempts: int = 5  # per AWS call, adaptive retry with backoff (throttling)
    session_duration_s: int = 3600  # lifetime of each user's assumed-role credentials


@dataclass(frozen=True)
class AuthSettings:
    """How `oidc` and `proxy` sign-in find the user (see docs/aws.md)."""

    oidc_provider: str = ""  # st.login provider: "" = the [auth] section itself, else [auth.<name>]
    groups_claim: str = "groups"  # OIDC / ALB claim that lists the user's groups
    web_identity: bool = False  # removed: must stay false (the browser never holds anything that can assume a role)
    alb_arn: str = ""  # proxy: verify the ALB's x-amzn-oidc-data JWT, signed by this load balancer
    trusted_header: str = ""  # proxy: header holding the user's e-mail, set by a proxy you trust
    trusted_name_header: str = ""
    trusted_groups_header: str = ""  # comma-separated groups


@dataclass(frozen=True)
class RoleMapping:
    """First match wins: a group or an email maps to a grants role (its IAM role ARN is in the grants file)."""

    role: str
    groups: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    engine: str = "duckdb"
    lakehouse_path: Path = PROJECT_ROOT / "data" / "lakehouse"
    demo_scale: str = "medium"
    databases: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DATABASES))
    grants_file: Path = PROJECT_ROOT / "config" / "grants.toml"
    personas_file: Path = PROJECT_ROOT / "config" / "demo_personas.toml"
    auth_mode: str = "demo"
    role_mappings: tuple[RoleMapping, ...] = ()
    default_role: str = ""  # role for signed-in users no mapping matches; "" = no access
    cache_ttl_s: int = 600
    cache_max_entries: int = 500
    query_timeout_s: float = 60.0
    role_extracts: str = "background"  # embedded engine: restricted roles' tables written once per data and grant version
    max_result_rows: int = 100_000
    audit_log: Path = PROJECT_ROOT / "data" / "audit.jsonl"
    audit_stdout: bool = False  # also print each audit line to stdout (containers: CloudWatch keeps it)
    required_tags: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"team": (), "environment": ("prod", "staging", "dev", "sandbox", "shared"), "cost-center": ()}
    )
    athena: AthenaSettings = field(default_factory=AthenaSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)

    @property
    def personas_allowed(self) -> bool:
        # Demo personas are a stand-in for sign-in on local data only: never on AWS.
        return self.engine == "duckdb" and self.auth_mode == "demo"


def _coerce(key: str, value: Any, kind: type) -> Any:
    """Convert an env string or TOML value to `kind`, or raise naming the key."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"Setting `{key}` must be true or false, not {value!r}.")
    if kind in (int, float):
        if isinstance(value, bool):
            raise SettingsError(f"Setting `{key}` must be a number, not {value!r}.")
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise SettingsError(f"Setting `{key}` must be a number, not {value!r}.") from None
        if number <= 0:
            raise SettingsError(f"Setting `{key}` must be greater than 0, not {value!r}.")
        return number
    if kind is Path:
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path
    if not isinstance(value, str):
        raise SettingsError(f"Setting `{key}` must be text, not {value!r}.")
    return value


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(f"Setting `{key}` must be one of {', '.join(allowed)}; got {value!r}.")
    return value


_SCALARS: dict[str, type] = {
    "engine": str,
    "lakehouse_path": Path,
    "demo_scale": str,
    "grants_file": Path,
    "personas_file": Path,
    "auth_mode": str,
    "default_role": str,
    "cache_ttl_s": int,
    "cache_max_entries": int,
    "query_timeout_s": float,
    "role_extracts": str,
    "max_result_rows": int,
    "audit_log": Path,
    "audit_stdout": bool,
}
_ATHENA_SCALARS: dict[str, type] = {
    "region": str,
    "workgroup": str,
    "s3_output": str,
    "kms_key": str,
    "unload": bool,
    "price_per_tb_usd": float,
    "catalog": str,
    "max_attempts": int,
    "session_duration_s": int,
}
_AUTH_SCALARS: dict[str, type] = {
    "oidc_provider": str,
    "groups_claim": str,
    "web_identity": bool,
    "alb_arn": str,
    "trusted_header": str,
    "trusted_name_header": str,
    "trusted_groups_header": str,
}
ALB_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[\w-]+/[0-9a-f]+")


def _auth_settings(section: object, environ: dict[str, str]) -> AuthSettings:
    """`[daivi.auth]` (env `DAIVI_AUTH_<KEY>`), validated."""
    if not isinstance(section, dict):
        raise SettingsError("`[daivi.auth]` in secrets.toml must be a table.")
    unknown = sorted(set(section) - set(_AUTH_SCALARS))
    if unknown:
        raise SettingsError(f"Unknown setting `daivi.auth.{unknown[0]}`; known: {', '.join(_AUTH_SCALARS)}.")
    values: dict[str, Any] = {}  # each checked by _coerce for its field's type
    for key, kind in _AUTH_SCALARS.items():
        env_key = f"DAIVI_AUTH_{key.upper()}"
        if env_key in environ:
            values[key] = _coerce(env_key, environ[env_key], kind)
        elif key in section:
            values[key] = _coerce(f"daivi.auth.{key}", section[key], kind)
    auth = AuthSettings(**values)
    if auth.web_identity:
        raise SettingsError(
            "Setting `daivi.auth.web_identity` is no longer supported: with it, any signed-in user could read their "
            "ID token from the auth cookie and assume any role. Remove it; the app assumes roles with AssumeRole "
            "and SourceIdentity (docs/aws.md)."
        )
    if auth.alb_arn and not ALB_ARN_PATTERN.fullmatch(auth.alb_arn):
        raise SettingsError(
            "Setting `daivi.auth.alb_arn` must be an Application Load Balancer ARN "
            "(arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>)."
        )
    if auth.alb_arn and (auth.trusted_header or auth.trusted_name_header or auth.trusted_groups_header):
        # With both, a request that bypasses the load balancer could name any user (an admin group
        # included) in the plain header: behind an ALB, only its signed token identifies a user.
        raise SettingsError(
            "Settings `daivi.auth.alb_arn` and `daivi.auth.trusted_header` (or its name/groups headers) exclude each other: "
            "behind an Application Load Balancer only its signed x-amzn-oidc-data token identifies a user. Remove the trusted headers."
        )
    return auth


def read_secrets_file(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path.name} is not valid TOML: {e}.") from None


def load_settings(secrets: dict | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build validated settings from a secrets mapping and the environment."""
    environ = dict(os.environ if environ is None else environ)
    if secrets is None:
        secrets_path = Path(environ.get("DAIVI_SECRETS_FILE", PROJECT_ROOT / ".streamlit" / "secrets.toml"))
        secrets = read_secrets_file(secrets_path)
    section = secrets.get("daivi", {})
    if not isinstance(section, dict):
        raise SettingsError("`[daivi]` in secrets.toml must be a table.")
    known = set(_SCALARS) | {"databases", "athena", "auth", "role_mappings", "required_tags"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise SettingsError(f"Unknown setting `daivi.{unknown[0]}`; known settings: {', '.join(sorted(known))}.")

    values: dict[str, Any] = {}  # each checked by _coerce for its field's type
    origin: dict[str, str] = {}  # where each value came from, to name it in messages
    for key, kind in _SCALARS.items():
        env_key = f"DAIVI_{key.upper()}"
        if env_key in environ:
            origin[key] = env_key
            values[key] = _coerce(env_key, environ[env_key], kind)
        elif key in section:
            origin[key] = f"daivi.{key}"
            values[key] = _coerce(origin[key], section[key], kind)
    for key, allowed in (("engine", ENGINES), ("demo_scale", DEMO_SCALES), ("auth_mode", AUTH_MODES),
                         ("role_extracts", ROLE_EXTRACT_MODES)):
        if key in values:
            _choice(origin[key], values[key], allowed)

    databases = dict(DEFAULT_DATABASES)
    for lakehouse, name in section.get("databases", {}).items():
        if lakehouse not in DEFAULT_DATABASES:
            raise SettingsError(f"Unknown lakehouse in `daivi.databases.{lakehouse}`; known: {', '.join(DEFAULT_DATABASES)}.")
        databases[lakehouse] = _coerce(f"daivi.databases.{lakehouse}", name, str)
    values["databases"] = databases

    athena_section = section.get("athena", {})
    athena_values: dict[str, Any] = {}
    for key, kind in _ATHENA_SCALARS.items():
        env_key = f"DAIVI_ATHENA_{key.upper()}"
        if env_key in environ:
            athena_values[key] = _coerce(env_key, environ[env_key], kind)
        elif key in athena_section:
            athena_values[key] = _coerce(f"daivi.athena.{key}", athena_section[key], kind)
    values["athena"] = AthenaSettings(**athena_values)
    values["auth"] = _auth_settings(section.get("auth", {}), environ)

    mappings = []
    for i, item in enumerate(section.get("role_mappings", [])):
        if not isinstance(item, dict) or "role" not in item:
            raise SettingsError(f"`daivi.role_mappings[{i}]` needs a `role`.")
        if "role_arn" in item:
            raise SettingsError(f"`daivi.role_mappings[{i}].role_arn`: role ARNs live only in the grants file "
                                "(`role_arn` of the role there). Remove it here.")
        mappings.append(
            RoleMapping(
                role=_coerce(f"daivi.role_mappings[{i}].role", item["role"], str),
                groups=tuple(item.get("groups", ())),
                emails=tuple(e.lower() for e in item.get("emails", ())),
            )
        )
    values["role_mappings"] = tuple(mappings)

    if "required_tags" in section:
        tags = section["required_tags"]
        if not isinstance(tags, dict):
            raise SettingsError("`daivi.required_tags` must be a table of tag key = [allowed values].")
        values["required_tags"] = {str(k): tuple(str(v) for v in vals) for k, vals in tags.items()}

    settings = Settings(**values)
    if settings.engine == "athena" and not settings.athena.s3_output:
        raise SettingsError("Setting `daivi.athena.s3_output` is required when `daivi.engine` is athena.")
    if settings.engine == "athena" and settings.auth_mode == "demo":
        raise SettingsError("Setting `daivi.auth_mode` must be oidc or proxy when `daivi.engine` is athena: demo personas never run on AWS.")
    return settings
