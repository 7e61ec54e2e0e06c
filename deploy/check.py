#!/usr/bin/env python3
"""Checks the files under deploy/ without a cluster (make deploy-check, run
by .ci/run): `kubectl --dry-run=client` is not available here, so the
Kubernetes Jobs are checked against the batch/v1 Job fields they use (names
and types from the Kubernetes API reference, v1.31: every key must be one
of these, with the right type, and the commands must be arrears commands
with the shard index wired in); the Airflow DAG file is imported when
Airflow is installed, and otherwise parsed and checked for its two tasks.
"""
import ast
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

# The subset of batch/v1 Job used here: key -> type or nested schema.
STR, INT, LIST = str, int, list
CONTAINER = {
    "name": STR, "image": STR, "command": [STR], "args": [STR],
    "env": [{"name": STR, "value": STR}],
    "resources": {"requests": {"cpu": STR, "memory": STR},
                  "limits": {"cpu": STR, "memory": STR}},
    "volumeMounts": [{"name": STR, "mountPath": STR, "readOnly": bool}],
}
JOB = {
    "apiVersion": STR, "kind": STR,
    "metadata": {"name": STR, "labels": {"*": STR}},
    "spec": {
        "completionMode": STR, "completions": INT, "parallelism": INT,
        "backoffLimit": INT, "backoffLimitPerIndex": INT, "maxFailedIndexes": INT,
        "ttlSecondsAfterFinished": INT, "activeDeadlineSeconds": INT,
        "template": {
            "metadata": {"labels": {"*": STR}},
            "spec": {
                "restartPolicy": STR,
                "containers": [CONTAINER],
                "volumes": [{"name": STR,
                             "persistentVolumeClaim": {"claimName": STR, "readOnly": bool}}],
            },
        },
    },
}


def conform(value, schema, path, errors):
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a mapping")
            return
        for k, v in value.items():
            sub = schema.get(k, schema.get("*"))
            if sub is None:
                errors.append(f"{path}.{k}: not a field of a batch/v1 Job here")
            else:
                conform(v, sub, f"{path}.{k}", errors)
    elif isinstance(schema, list):
        if not isinstance(value, list) or not value:
            errors.append(f"{path}: expected a non-empty list")
            return
        for i, v in enumerate(value):
            conform(v, schema[0], f"{path}[{i}]", errors)
    elif schema is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(f"{path}: expected a whole number >= 0")
    elif not isinstance(value, schema):
        errors.append(f"{path}: expected {schema.__name__}")


def check_job(path):
    errors = []
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if len(docs) != 1:
        return [f"{path}: expected one Job, found {len(docs)} documents"]
    job = docs[0]
    conform(job, JOB, "job", errors)
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        errors.append("not a batch/v1 Job")
    spec = job.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append("a Job's restartPolicy must be Never or OnFailure")
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        errors.append("completionMode must be NonIndexed or Indexed")
    if "backoffLimitPerIndex" in spec and spec.get("completionMode") != "Indexed":
        errors.append("backoffLimitPerIndex needs completionMode Indexed")
    mounts = {v["name"] for v in pod.get("volumes", [])}
    for c in pod.get("containers", []):
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        for m in c.get("volumeMounts", []):
            if m["name"] not in mounts:
                errors.append(f"container {c['name']}: mounts unknown volume {m['name']}")
        script = " ".join(c.get("args", []))
        if "arrears shard" in script:
            if spec.get("completionMode") != "Indexed":
                errors.append("the shards Job must be Indexed")
            if "$JOB_COMPLETION_INDEX/$SHARDS" not in script:
                errors.append("the shard index must come from JOB_COMPLETION_INDEX")
            if str(spec.get("completions")) != env.get("SHARDS"):
                errors.append(f"completions {spec.get('completions')} != SHARDS {env.get('SHARDS')}")
        elif "arrears merge" not in script:
            errors.append(f"container {c['name']}: runs neither arrears shard nor merge")
    return [f"{os.path.basename(path)}: {e}" for e in errors]


def check_dag(path):
    try:
        import airflow  # noqa: F401
    except ImportError:
        airflow = None
    if airflow is not None:
        from airflow.models.dagbag import DagBag
        bag = DagBag(dag_folder=path, include_examples=False)
        if bag.import_errors:
            return [f"{path}: {bag.import_errors}"]
        dag = bag.get_dag("arrears_nightly")
        ids = sorted(t.task_id for t in dag.tasks)
        if ids != ["merge", "shard"]:
            return [f"{path}: tasks {ids}"]
        print(f"deploy-check: Airflow imported the DAG: tasks {ids}")
        return []
    tree = ast.parse(open(path).read(), path)
    src = ast.unparse(tree)
    errors = []
    for needle in (".expand(", "task_id='shard'", "task_id='merge'", "shards >> merge",
                   "arrears", " shard ", " merge "):
        if needle not in src and needle.strip() not in src:
            errors.append(f"{path}: missing {needle!r}")
    print("deploy-check: Airflow not installed: the DAG was parsed, not imported")
    return errors


def main():
    errors = []
    for name in ("arrears-shards.yaml", "arrears-merge.yaml"):
        errors += check_job(os.path.join(HERE, "k8s", name))
    errors += check_dag(os.path.join(HERE, "dags", "arrears_nightly.py"))
    for e in errors:
        print("deploy-check:", e, file=sys.stderr)
    if errors:
        return 1
    print("deploy-check: the Kubernetes Jobs and the Airflow DAG pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
