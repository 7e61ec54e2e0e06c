"""Airflow DAG: the nightly `arrears` run as N shard tasks (dynamic task
mapping over the shard indices, each retried on its own), then the merge,
which publishes. Same commands as `arrears run` split in two (README,
"Running on object storage and on a cluster"). The workers need the `arrears` binary and a
shared file system holding ARREARS_INPUT, ARREARS_OUTPUT and ARREARS_WORK.

The run date is Airflow's logical date (`ds`); the shard count, paths and
binary come from the environment of the scheduler that parses this file:
ARREARS_SHARDS (default 8), ARREARS_INPUT, ARREARS_OUTPUT, ARREARS_WORK,
ARREARS_BIN.
"""
import os
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

SHARDS = int(os.environ.get("ARREARS_SHARDS", "8"))
INPUT = os.environ.get("ARREARS_INPUT", "/data/input")
OUTPUT = os.environ.get("ARREARS_OUTPUT", "/data/output")
WORK = os.environ.get("ARREARS_WORK", "/data/work")
ARREARS = os.environ.get("ARREARS_BIN", "arrears")

with DAG(
    dag_id="arrears_nightly",
    description="Delinquency, roll rates and collections: shards, then merge",
    schedule="30 1 * * *",
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["arrears", "collections"],
) as dag:
    # One mapped task per shard: a failed shard is retried alone, and a
    # retry rewrites the shard's folder with the same bytes.
    shards = BashOperator.partial(task_id="shard").expand(
        bash_command=[
            f"{ARREARS} shard --input {INPUT} --output {OUTPUT} --work {WORK} "
            f"--as-of {{{{ ds }}}} --shard {k}/{SHARDS}"
            for k in range(SHARDS)
        ]
    )
    merge = BashOperator(
        task_id="merge",
        bash_command=(
            f"{ARREARS} merge --work {WORK} --output {OUTPUT} "
            f"--as-of {{{{ ds }}}} --shards {SHARDS}"
        ),
        # A merge that refuses its shards (exit 9) or fails a check (5)
        # publishes nothing; retrying it cannot help.
        retries=0,
    )
    shards >> merge
