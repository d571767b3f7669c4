"""Who is signed in: the `Principal` every query runs as.

A principal is built from a sign-in (OIDC claims, a trusted proxy header, or a
demo persona on the embedded engine) and mapped to a grants role. The role is
what Lake Formation knows the user by; the embedded engine enforces the same
role's grants from the grants file.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from daivi_data.errors import InvalidRequest, NotSignedIn, SettingsError
from daivi_data.settings import Settings


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    display_name: str
    role: str
    groups: tuple[str, ...] = ()
    source: str = "demo"  # demo | oidc | proxy
    # Unused: web identity federation was removed (the browser must hold nothing that can assume a role).
    # Kept only so older sign-in code that fills it still imports; never printed, never in equality or cache keys.
    web_identity_token: str = field(default="", repr=False, compare=False)

    @property
    def cache_key(self) -> str:
        """Stable key that separates every principal's cache entries (and credentials).

        Includes the role, so a user whose mapping changes never reads results
        cached under their old role.
        """
        raw = "\x1f".join((self.source, self.user_id, self.email.lower(), self.role, *sorted(self.groups)))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Persona:
    key: str
    display_name: str
    email: str
    role: str
    description: str


def load_personas(path: Path) -> dict[str, Persona]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SettingsError(f"Demo personas file not found: {path.name} (setting `daivi.personas_file`).") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path.name} is not valid TOML: {e}.") from None
    personas = {}
    for key, item in data.get("personas", {}).items():
        try:
            personas[key] = Persona(key=key, display_name=item["name"], email=item["email"], role=item["role"], description=item.get("description", ""))
        except KeyError as e:
            raise SettingsError(f"Persona `{key}` in {path.name} lacks `{e.args[0]}`.") from None
    return personas


def principal_for_persona(settings: Settings, persona_key: str) -> Principal:
    """The principal of a demo persona; refused unless demo sign-in is allowed."""
    if not settings.personas_allowed:
        raise NotSignedIn("Demo personas are only available on the embedded engine. Sign in instead.")
    personas = load_personas(settings.personas_file)
    persona = personas.get(persona_key)
    if persona is None:
        raise InvalidRequest(f"Unknown demo persona {persona_key!r}; choose one of: {', '.join(personas)}.")
    return Principal(
        user_id=f"demo:{persona.key}",
        email=persona.email,
        display_name=persona.display_name,
        role=persona.role,
        source="demo",
    )


def role_for_user(settings: Settings, email: str, groups: tuple[str, ...]) -> str:
    """The grants role of a signed-in user: first matching mapping, else the default role.

    Raises NotSignedIn when nothing matches and there is no default: such a
    user has no access at all.
    """
    email = email.lower()
    for mapping in settings.role_mappings:
        if email in mapping.emails or set(groups) & set(mapping.groups):
            return mapping.role
    if settings.default_role:
        return settings.default_role
    raise NotSignedIn(f"{email or 'This user'} has no DAIVI role. Ask the data platform team for access.")


def principal_for_user(settings: Settings, *, user_id: str, email: str, name: str, groups: tuple[str, ...], source: str) -> Principal:
    role = role_for_user(settings, email, groups)
    return Principal(user_id=user_id, email=email, display_name=name or email, role=role, groups=groups, source=source)


def groups_from_claim(value: object) -> tuple[str, ...]:
    """A groups claim as a tuple: a list as is, a comma-separated string split."""
    if isinstance(value, str):
        return tuple(g.strip() for g in value.split(",") if g.strip())
    if isinstance(value, (list, tuple)):
        return tuple(str(g) for g in value)
    return ()


def principal_from_claims(settings: Settings, claims: Mapping[str, object], source: str, *,
                          subject_required: bool = False) -> Principal:
    """The principal of verified identity claims (OIDC, ALB, a bearer token), mapped to a role by the settings.

    `subject_required`: an access token must name its subject; a sign-in may fall back to the e-mail.
    """
    if claims.get("email_verified") is False:
        raise NotSignedIn("The identity provider has not verified the e-mail address, so no role can be given to it.")
    email = str(claims.get("email") or "")
    subject = str(claims.get("sub") or ("" if subject_required else email))
    if not subject:
        raise NotSignedIn("The sign-in carries no subject" + ("." if subject_required else " and no e-mail address."))
    name = str(claims.get("name") or claims.get("preferred_username") or email or subject)
    groups = groups_from_claim(claims.get(settings.auth.groups_claim))
    return principal_for_user(settings, user_id=f"{source}:{subject}", email=email, name=name, groups=groups, source=source)
