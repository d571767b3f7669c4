"""CloudFormation plumbing: `${Name}` strings become `Ref`, `Fn::GetAtt` or `Fn::Sub`.

The stack is written as plain data in which a string may name a parameter, a
resource or a pseudo parameter as `${Name}` / `${Resource.Attribute}` /
`${AWS::Region}`, exactly as `Fn::Sub` would. `resolve()` turns each such string
into the intrinsic function it needs, and escapes every other `${...}` (IAM
policy variables such as `${aws:userid}`, Athena's `${billing_period}`) so it
reaches AWS literally. Policy documents and Glue tables built elsewhere go in
unchanged.
"""

from __future__ import annotations

import re

import yaml

_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _is_reference(name: str, known: set[str]) -> bool:
    return name.startswith("AWS::") or name.split(".", 1)[0] in known


def resolve_string(text: str, known: set[str]) -> str | dict:
    names = _VARIABLE.findall(text)
    if not any(_is_reference(n, known) for n in names):
        return text  # outside Fn::Sub, ${...} is plain text
    whole = _VARIABLE.fullmatch(text)
    if whole:
        name = whole.group(1)
        return {"Fn::GetAtt": name.split(".", 1)} if "." in name and not name.startswith("AWS::") else {"Ref": name}
    escaped = _VARIABLE.sub(lambda m: m.group(0) if _is_reference(m.group(1), known) else "${!" + m.group(1) + "}", text)
    return {"Fn::Sub": escaped}


def resolve(value: object, known: set[str]) -> object:
    """`value` with every string that names a template entity replaced by its intrinsic function."""
    if isinstance(value, str):
        return resolve_string(value, known)
    if isinstance(value, list):
        return [resolve(v, known) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Condition"):
            return value  # already an intrinsic function: leave it as written
        return {k: resolve(v, known) for k, v in value.items()}
    return value


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None  # multi-line text (the secrets.toml) stays readable
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(template: dict, header: str, comments: dict[str, str]) -> str:
    """The template as YAML, `header` on top, `comments[logical id]` above each resource that has one."""
    text = yaml.dump(template, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)
    lines = ["# " + line if line else "#" for line in header.splitlines()]
    section = ""
    for line in text.splitlines():
        if not line.startswith(" "):
            section = line.rstrip(":")
        elif section == "Resources" and re.fullmatch(r"  \w+:", line) and line.strip(" :") in comments:
            lines.append("")
            lines += ["  # " + c if c else "  #" for c in comments[line.strip(" :")].splitlines()]
        lines.append(line)
    return "\n".join(lines) + "\n"
