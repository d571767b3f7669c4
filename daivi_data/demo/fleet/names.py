"""Names, ids and tags of resources: the last step of the resource table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from daivi_data.demo.fleet.core import CONFIG_TYPES, _Ctx
from daivi_data.demo.org import ACCOUNTS


def _hex(rng, n: int, width: int = 16) -> np.ndarray:
    digits = rng.integers(0, 16, size=(n, width), dtype=np.int8)
    chars = np.array(list("0123456789abcdef"))[digits]
    return np.ascontiguousarray(chars).view(f"<U{width}").ravel().astype(object)


def _finish_resources(ctx: _Ctx, res: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng
    n = len(res)
    res = res.copy()
    acct_ids = np.array([a.account_id for a in ACCOUNTS], dtype=object)
    env_of = np.array([a.environment for a in ACCOUNTS], dtype=object)
    res["account_id"] = acct_ids[res["acct"].to_numpy()]
    res["env"] = env_of[res["acct"].to_numpy()]
    hexes = _hex(rng, n)
    kind = res["kind"].to_numpy()
    region = res["region"].to_numpy()
    acc = res["account_id"].to_numpy()
    app = res["app"].to_numpy()
    env = res["env"].to_numpy()
    name = res["name"].to_numpy().copy()

    # Instance host names: role-app[-env]-NN, EKS nodes by private DNS name, unique across the organization.
    inst = kind == "instance"
    role = res["role"].to_numpy()
    short_env = np.where(np.isin(env, ["prod", "shared"]), "", "-" + env)
    base = np.array([(r if a in r or not a else f"{r}-{a}") + e for r, a, e in zip(role, app, short_env, strict=True)],
                    dtype=object)
    order = np.zeros(n, dtype=np.int64)
    order[inst] = pd.Series(base[inst]).groupby(base[inst]).cumcount().to_numpy() + 1
    hostnames = np.array([f"{b}-{k:02d}" for b, k in zip(base, order, strict=True)], dtype=object)
    ordinal = np.cumsum(inst) - 1
    dns = np.array([f"ip-10-{16 + (o // 62500) % 200}-{(o // 250) % 250}-{o % 250 + 4}" for o in ordinal],
                   dtype=object)
    unnamed = inst & np.isin(role, ["node", "agent", "miner", "loadgen"])
    name = np.where(inst & (name == ""), np.where(unnamed, dns, hostnames), name)

    ids = np.full(n, "", dtype=object)
    prefix = {"instance": "i-0", "volume": "vol-0", "snapshot": "snap-0", "eip": "eipalloc-0", "nat": "nat-0",
              "vpc": "vpc-0", "subnet": "subnet-0", "sg": "sg-0"}
    for k, p in prefix.items():
        m = kind == k
        ids[m] = p + hexes[m]
    seq = pd.Series(np.ones(n)).groupby([kind, acc, app]).cumcount().to_numpy() + 1

    env_sfx = np.where(env == "prod", "prod", env)
    purpose = res["purpose"].to_numpy()
    fn_names = ("handle-events", "process-queue", "resize-images", "sync-catalog", "send-notifications",
                "rotate-keys", "export-report", "validate-input", "enrich-order", "cleanup-tmp")
    arn_col = np.full(n, "", dtype=object)

    def fmt(m: np.ndarray, template: str) -> np.ndarray:
        out = []
        for i in np.flatnonzero(m):
            sq = int(seq[i])
            h = hexes[i]
            out.append(template.format(
                a=app[i], p=purpose[i], e=env_sfx[i], c=acc[i], c4=acc[i][-4:], s=sq, sx=f"-{sq}" if sq > 1 else "",
                r=region[i], h=h, i=ids[i], n=name[i], fn=fn_names[(sq - 1) % 10],
                fx=f"-{(sq - 1) // 10 + 1}" if sq > 10 else "", dom="" if env[i] == "prod" else env[i] + ".",
                zone="Z0" + h.upper()[:16] + "XY", dist="E" + h.upper()[:13],
                uuid=f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[1:4]}-{h[4:16]}",
                kind=kind[i].replace("eip", "elastic-ip").replace("nat", "natgateway").replace("sg",
                                                                                              "security-group"),
            ))
        return np.array(out, dtype=object)

    # kind -> (name template, ARN template, resource id is the name (else the ARN))
    specs = {
        "bucket": ("daivi-{a}-{p}-{e}-{c4}", "arn:aws:s3:::{n}", True),
        "rds": ("{a}-{e}-db-{s:02d}", "arn:aws:rds:{r}:{c}:db:{n}", False),
        "lambda": ("{a}-{fn}{fx}", "arn:aws:lambda:{r}:{c}:function:{n}", False),
        "dynamodb": ("{a}-{e}-{s:02d}", "arn:aws:dynamodb:{r}:{c}:table/{n}", False),
        "alb": ("{a}-{e}-alb{sx}", "arn:aws:elasticloadbalancing:{r}:{c}:loadbalancer/app/{n}/{h}", False),
        "eks": ("{a}-cluster", "arn:aws:eks:{r}:{c}:cluster/{n}", False),
        "cloudfront": ("{a}.{dom}daivi.example", "arn:aws:cloudfront::{c}:distribution/{dist}", False),
        "notebook": ("{a}-{e}-nb-{s:02d}", "arn:aws:sagemaker:{r}:{c}:notebook-instance/{n}", False),
        "endpoint": ("{a}-{e}-endpoint-{s:02d}", "arn:aws:sagemaker:{r}:{c}:endpoint/{n}", False),
        "redshift": ("{a}-{e}-{s:02d}", "arn:aws:redshift:{r}:{c}:cluster:{n}", False),
        "opensearch": ("{a}-{e}-{s:02d}", "arn:aws:es:{r}:{c}:domain/{n}", False),
        "elasticache": ("{a}-{e}-redis-{s:02d}", "arn:aws:elasticache:{r}:{c}:cluster:{n}", False),
        "kms": ("alias/{a}-{e}{sx}", "arn:aws:kms:{r}:{c}:key/{uuid}", False),
        "zone": ("{a}.{dom}daivi.example", "arn:aws:route53:::hostedzone/{zone}", False),
        "loggroup": ("/aws/{a}/{e}/service-{s}", "arn:aws:logs:{r}:{c}:log-group:{n}", False),
    }
    for k in ("instance", "volume", "snapshot", "eip", "nat", "vpc", "subnet", "sg"):
        m = kind == k
        if m.any():
            arn_col[m] = fmt(m, "arn:aws:ec2:{r}:{c}:{kind}/{i}")
    for k, (name_t, arn_t, by_name) in specs.items():
        m = kind == k
        if not m.any():
            continue
        unnamed = m & (name == "")
        if unnamed.any():
            name[unnamed] = fmt(unnamed, name_t)
        arn_col[m] = fmt(m, arn_t)
        ids[m] = name[m] if by_name else arn_col[m]
    res["arn"] = arn_col
    # EC2 volumes and snapshots: Name tag derived from the instance.
    parent = res["parent"].to_numpy()
    has_parent = parent >= 0
    pname = np.where(has_parent, name[np.where(has_parent, parent, 0)], "")
    vol = (kind == "volume") & (name == "")
    name[vol] = np.where(pname[vol] != "", pname[vol] + np.where(role[vol] == "root", "-root", "-data"), "")
    snap = (kind == "snapshot") & (name == "")
    name[snap] = np.where(role[snap] == "ami", np.char.add("golden-ami-", hexes[snap].astype(str)[:, ]).astype(object),
                          np.char.add(app[snap].astype(str), "-backup").astype(object))
    nat = (kind == "nat") & (name == "")
    name[nat] = np.array([f"nat-{c[-4:]}-{a}" for c, a in zip(acc[nat], res["az"].to_numpy()[nat], strict=True)],
                         dtype=object)
    eip = (kind == "eip") & (name == "")
    name[eip] = pname[eip]
    res["name"] = name
    res["resource_id"] = ids
    res["rtype"] = [CONFIG_TYPES[k] for k in kind]
    res["attached_to"] = np.where(has_parent, ids[np.where(has_parent, parent, 0)], "")

    # Tags: team/environment/cost-center/application with realistic gaps and mistakes.
    u = rng.random(n)
    untagged = u < res["untagged_p"].to_numpy() * np.where(env == "sandbox", 2.2, 1.0)
    partial = ~untagged & (rng.random(n) < 0.15)
    wrong = ~untagged & (rng.random(n) < 0.07)
    team = np.array([ACCOUNTS[i].team for i in res["acct"]], dtype=object)
    cc = np.array([ACCOUNTS[i].cost_center for i in res["acct"]], dtype=object)
    env_tag = env.copy()
    bad_env = np.array(["Prod", "production", "PROD", "Dev", "stage", "Staging"], dtype=object)
    env_tag = np.where(wrong & (rng.random(n) < 0.7), bad_env[rng.integers(0, 6, n)], env_tag)
    team = np.where(wrong & (rng.random(n) < 0.3), np.char.title(team.astype(str)).astype(object), team)
    tag_app = np.where(app == "", None, app)
    res["tag_team"] = np.where(untagged, None, team)
    res["tag_env"] = np.where(untagged | (partial & (rng.random(n) < 0.3)), None, env_tag)
    res["tag_cc"] = np.where(untagged | partial, None, cc)
    res["tag_app"] = np.where(untagged | (partial & (rng.random(n) < 0.6)), None, tag_app)
    # Incident and kubernetes-managed resources never carry cost allocation tags.
    no_tags = res["incident"].to_numpy() != ""
    for col in ("tag_team", "tag_env", "tag_cc", "tag_app"):
        res.loc[no_tags, col] = None
    return res
