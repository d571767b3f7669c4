"""The AWS Config `configuration` document of each resource."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from daivi_data.demo.fleet.core import stable_hex


def resource_config_json(res: pd.DataFrame) -> np.ndarray:
    """A compact AWS Config `configuration` per resource; '@STATE@' and '@ATTACH@' are filled per snapshot."""
    out = np.empty(len(res), dtype=object)
    for i, r in enumerate(res.itertuples(index=False)):
        out[i] = json.dumps(_config(r), separators=(",", ":"))
    return out


def _config(r) -> dict:
    k = r.kind
    created = (dt.datetime(1970, 1, 1) + dt.timedelta(days=float(r.created))).replace(microsecond=0).isoformat() + ".000Z"
    h = stable_hex(r.resource_id, 24)
    if k == "instance":
        ip = f"10.{int(h[:2], 16) % 64}.{int(h[2:4], 16)}.{int(h[4:6], 16) % 250 + 4}"
        return {"instanceId": r.resource_id, "instanceType": "@ITYPE@", "imageId": "ami-0" + h[:16],
                "state": {"code": "@CODE@", "name": "@STATE@"}, "launchTime": created,
                "placement": {"availabilityZone": r.az, "tenancy": "default"}, "privateIpAddress": ip,
                "privateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal", "subnetId": "subnet-0" + h[6:22],
                "vpcId": "vpc-0" + h[8:24], "architecture": "arm64" if "g." in r.itype else "x86_64",
                "platformDetails": r.platform, "monitoring": {"state": "disabled"},
                "metadataOptions": {"httpTokens": "required" if int(h[0], 16) > 4 else "optional"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"status": "attached",
                                                                          "deleteOnTermination": True}}]}
    if k == "volume":
        return {"volumeId": r.resource_id, "size": int(r.size_gb), "volumeType": r.vtype, "state": "@STATE@",
                "availabilityZone": r.az, "encrypted": bool(r.encrypted), "createTime": created,
                "iops": int(r.iops) if r.iops else (3000 if r.vtype == "gp3" else max(100, int(r.size_gb) * 3)),
                "attachments": "@ATTACH@"}
    if k == "snapshot":
        return {"snapshotId": r.resource_id, "volumeSize": int(r.size_gb), "state": "completed",
                "startTime": created, "encrypted": bool(r.encrypted), "description": "Created by AWS Backup"
                if r.role == "backup" else f"Copied for DestinationAmi ami-0{h[:16]}"}
    if k == "eip":
        return {"allocationId": r.resource_id, "publicIp": f"{3 + int(h[:2], 16) % 50}.{int(h[2:4], 16)}."
                f"{int(h[4:6], 16)}.{int(h[6:8], 16)}", "domain": "vpc", "associationId": "@ATTACH@"}
    if k == "bucket":
        return {"name": r.name, "creationDate": created, "versioning": {"status": "Enabled"},
                "publicAccessBlock": {"blockPublicAcls": not r.public, "restrictPublicBuckets": not r.public},
                "serverSideEncryption": {"sseAlgorithm": "aws:kms" if r.encrypted else "AES256"}}
    if k == "rds":
        return {"dbInstanceIdentifier": r.name, "dbInstanceClass": r.itype, "engine": r.engine,
                "multiAZ": bool(r.multi_az), "allocatedStorage": int(r.size_gb), "storageType": "gp2",
                "storageEncrypted": bool(r.encrypted), "dbInstanceStatus": "@STATE@",
                "publiclyAccessible": bool(r.public)}
    if k == "lambda":
        return {"functionName": r.name, "runtime": ["python3.12", "nodejs20.x", "java17"][int(h[0], 16) % 3],
                "memorySize": [128, 256, 512, 1024][int(h[1], 16) % 4], "timeout": 30, "handler": "app.handler",
                "architectures": ["arm64" if int(h[2], 16) % 2 else "x86_64"]}
    return {"name": r.name, "resourceId": r.resource_id, "createdTime": created, "status": "@STATE@"}
