"""Incremental refresh from the export bucket: fetch only the partitions that changed since the last import.

A SOURCE `s3://bucket/prefix/` is where an export lands: a CUR 2.0 or FOCUS Data
Export (`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/...` with its
`metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`), a legacy CUR
(`<YYYYMMDD-YYYYMMDD>/` folders), AWS Config snapshots (`.../YYYY/M/D/ConfigSnapshot/`)
or a Splunk export prefix (files named by day). It is read with the user's own
AWS credentials (boto3's default chain: environment, profile, SSO, instance role).

Objects are grouped by the partition their key names (billing period, day; a
key that names none is in one group of its own prefix), because a merge replaces
whole partitions: when any object of a group is new, changed (ETag) or gone, the
whole group is fetched again, and nothing else. AWS Data Exports rewrite the
current month several times a day; its manifest lists the data files of the
latest delivery (`dataFiles`), so files it does not list are not fetched.
What was fetched is recorded per group in the lakehouse manifest
(`source_state`: ETag and LastModified of every object), so the next refresh
compares against it. Files go to a temporary folder, are imported with
`--merge`, and are deleted; a refresh that stops leaves the lakehouse as it was.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from daivi_data.ingest.pipeline import ImportOptions, run_import
from daivi_data.ingest.report import ImportFailed, ImportReport
from daivi_data.lakehouse import read_manifest

log = logging.getLogger(__name__)

S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?$")
# The partition a key names, most specific first: Data Exports, legacy CUR, Config's folders, a day in a file name.
_GROUPS = (
    re.compile(r"(BILLING_PERIOD=\d{4}-\d{2})"),
    re.compile(r"/(\d{8}-\d{8})/"),
    re.compile(r"/(\d{4}/\d{1,2}/\d{1,2})/"),
    re.compile(r"(\d{4}-\d{2}-\d{2})"),
)
_DATA_EXPORT_MANIFEST = re.compile(r"/metadata/BILLING_PERIOD=\d{4}-\d{2}/[^/]+-Manifest\.json$")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class S3Object:
    key: str
    etag: str
    last_modified: str


@dataclass
class RefreshResult:
    """What a refresh did: the groups it fetched (and their files), those unchanged, and the import's report."""

    fetched_groups: list[str] = field(default_factory=list)
    unchanged_groups: list[str] = field(default_factory=list)
    fetched_files: list[str] = field(default_factory=list)  # s3:// URIs downloaded
    report: ImportReport | None = None  # None when nothing changed (no import ran)

    def to_text(self) -> str:
        head = (f"Fetched {len(self.fetched_files)} file(s) in {len(self.fetched_groups)} changed partition(s) "
                f"({', '.join(self.fetched_groups) or 'none'}); {len(self.unchanged_groups)} unchanged partition(s) not fetched.")
        return head if self.report is None else head + "\n" + self.report.to_text()


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/prefix/' -> ('bucket', 'prefix/'), or ImportFailed naming the source."""
    match = S3_URI.match(uri)
    if not match:
        raise ImportFailed(f"{uri[:200]} is not an S3 URI like s3://my-bucket/exports/.")
    return match.group(1), match.group(2) or ""


def group_of(uri: str, key: str) -> str:
    """The partition group of an object: '<source uri>|BILLING_PERIOD=2024-09', '<source uri>|2024/9/18', ..."""
    for pattern in _GROUPS:
        found = pattern.search("/" + key)
        if found:
            return f"{uri}|{found.group(1)}"
    return f"{uri}|"


def _client(session):
    import boto3

    return (session or boto3.Session()).client("s3")


def _aws_message(e: Exception, uri: str) -> str:
    """A short reason from a botocore error, without request ids or credentials."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(e, NoCredentialsError):
        return (f"No AWS credentials to read {uri}: configure them the usual way (AWS_PROFILE, `aws sso login`, "
                "environment variables or an instance role).")
    if isinstance(e, ClientError):
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "403"):
            return f"Access denied reading {uri}: your AWS identity needs s3:ListBucket and s3:GetObject on it."
        if code in ("NoSuchBucket", "404", "NoSuchKey"):
            return f"{uri} does not exist (S3 said {code})."
        return f"S3 refused a request on {uri} ({code or 'error'})."
    return f"Reading {uri} failed: {str(e).splitlines()[0][:200]}"


def list_objects(client, bucket: str, prefix: str) -> list[S3Object]:
    """Every object under the prefix (all pages), folders and hidden files left out."""
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/") or any(part.startswith(".") for part in key[len(prefix):].split("/")):
                continue
            objects.append(S3Object(key, item["ETag"].strip('"'), item["LastModified"].isoformat()))
    return objects


def _listed_data_files(client, bucket: str, manifest_key: str) -> set[str] | None:
    """Keys a Data Exports manifest lists in `dataFiles` (S3 URIs or keys), or None when it lists none."""
    body = client.get_object(Bucket=bucket, Key=manifest_key)["Body"].read()
    try:
        files = json.loads(body).get("dataFiles")
    except (ValueError, AttributeError):
        return None
    if not isinstance(files, list) or not files:
        return None
    keys = set()
    for f in files:
        text = f if isinstance(f, str) else (f.get("key") or f.get("path") or "") if isinstance(f, dict) else ""
        keys.add(text.split(f"s3://{bucket}/", 1)[1] if text.startswith(f"s3://{bucket}/") else text)
    return keys


def refresh_from_s3(uris: list[str], out: Path, options: ImportOptions | None = None, progress: Progress | None = None,
                    session=None, local_sources: list[Path] | None = None) -> RefreshResult:
    """Fetch the partitions of `uris` that changed since the last import into `out`, and merge them in.

    `session` is a boto3 Session (default: the default credential chain). Local sources, if
    any, are imported in the same merge. Raises ImportFailed (lakehouse untouched) on any error.
    """
    options = options or ImportOptions()
    say = progress or (lambda fraction, message: None)
    previous_state: dict = read_manifest(out).get("source_state", {}) if Path(out).exists() else {}
    client = _client(session)
    result = RefreshResult()
    wanted: dict[str, list[tuple[str, str, S3Object]]] = {}  # group -> (uri, bucket, object)
    state: dict[str, dict] = {}
    for uri in uris:
        bucket, prefix = parse_s3_uri(uri)
        say(0.01, f"Listing {uri}")
        try:
            objects = list_objects(client, bucket, prefix)
        except Exception as e:  # botocore raises several types; each becomes one message
            raise ImportFailed(_aws_message(e, uri)) from None
        if not objects:
            raise ImportFailed(f"No objects under {uri}.")
        groups: dict[str, list[S3Object]] = {}
        for obj in objects:
            groups.setdefault(group_of(uri, obj.key), []).append(obj)
        for group, members in sorted(groups.items()):
            now = {f"s3://{bucket}/{o.key}": {"etag": o.etag, "last_modified": o.last_modified} for o in members}
            if previous_state.get(group) == now:
                result.unchanged_groups.append(group)
                continue
            state[group] = now
            wanted[group] = [(uri, bucket, o) for o in members]
    if not wanted and not local_sources:
        return result
    staging = Path(tempfile.mkdtemp(prefix="daivi-s3-refresh-"))
    try:
        for i, (group, fetch) in enumerate(sorted(wanted.items())):
            say(0.02 + 0.3 * i / len(wanted), f"Fetching {group.split('|', 1)[1] or 'files'} from {fetch[0][0]}")
            _download_group(client, fetch, staging, result)
            result.fetched_groups.append(group)
        sources = [*(local_sources or []), *([staging] if wanted else [])]
        origin = ", ".join([*uris, *(str(p) for p in local_sources or [])])
        merged = replace(options, merge=True, origin=origin, source_state={**options.source_state, **state})
        result.report = run_import(sources, out, merged, lambda f, m: say(0.35 + 0.65 * f, m))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _download_group(client, members: list[tuple[str, str, S3Object]], staging: Path, result: RefreshResult) -> None:
    """Download a group's files under `staging/<bucket>/<key>` (keys keep the layout detection reads)."""
    uri, bucket = members[0][0], members[0][1]
    listed: set[str] | None = None
    for _, _, obj in members:
        if _DATA_EXPORT_MANIFEST.search("/" + obj.key):
            try:
                listed = _listed_data_files(client, bucket, obj.key)
            except Exception as e:  # botocore raises several types
                raise ImportFailed(_aws_message(e, f"s3://{bucket}/{obj.key}")) from None
    for _, _, obj in members:
        if _DATA_EXPORT_MANIFEST.search("/" + obj.key):
            continue  # read above; the import has no use for it
        if listed is not None and "/data/" in "/" + obj.key and obj.key not in listed:
            continue  # an older delivery's file the export's manifest no longer lists
        target = staging / bucket / obj.key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            client.download_file(bucket, obj.key, str(target))
        except Exception as e:  # botocore / s3transfer raise several types
            log.warning("refresh from %s stopped downloading %s", uri, obj.key)
            raise ImportFailed(_aws_message(e, f"s3://{bucket}/{obj.key}")) from None
        result.fetched_files.append(f"s3://{bucket}/{obj.key}")
