#!/usr/bin/env python3
"""Runs one nightly `arrears` run as N shard tasks on a Dask cluster, then
the merge (README, "Running on object storage and on a cluster").

Each task runs `arrears shard --shard K/N` as a subprocess on whichever
worker Dask picks; a task that fails (the process exits non-zero, is
killed, or the worker dies) is retried by Dask up to --retries times. A
shard writes its folder under --work atomically and a rerun writes the same
bytes, so a retry is always safe. When every shard is done, the merge runs
here: it checks that the N shards are of one run, reconciles, renders and
publishes as `arrears run` does. The exit code is the merge's (0, or the
documented codes of README "Exit codes"), or 10 when a shard failed past
its retries (nothing is published then).

Every machine that runs a task needs the `arrears` binary and the same view
of --input, --output (read only: earlier runs' worklists) and --work: a
shared file system. `--scheduler tcp://host:8786` uses a running cluster;
without it, a local cluster of --local-workers processes is started (what
CI runs).

    python deploy/dask_shards.py --arrears target/release/arrears \\
        --input IN --output OUT --work WORK --as-of 2026-11-29 --shards 4
"""
import argparse
import os
import signal
import subprocess
import sys
import time

SHARDS_FAILED = 10


def run_shard(arrears, args, k, n, inject_failure):
    """One shard, as a subprocess. With `inject_failure` (tests only), the
    first attempt of this shard is killed mid-way and the task fails, so
    that the engine's retry is exercised for real."""
    cmd = [arrears, "shard", "--input", args["input"], "--output", args["output"],
           "--work", args["work"], "--shard", f"{k}/{n}"]
    if args.get("as_of"):
        cmd += ["--as-of", args["as_of"]]
    if args.get("policy"):
        cmd += ["--policy", args["policy"]]
    if args.get("threads"):
        cmd += ["--threads", str(args["threads"])]
    if inject_failure:
        marker = os.path.join(args["work"], f".injected-failure-{k}-of-{n}")
        if not os.path.exists(marker):
            os.makedirs(args["work"], exist_ok=True)
            open(marker, "w").close()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)
            p.send_signal(signal.SIGKILL)
            p.wait()
            raise RuntimeError(f"shard {k}/{n}: injected failure (process killed)")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"shard {k}/{n} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arrears", default="arrears", help="the arrears binary (on every worker)")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--shards", type=int, required=True)
    ap.add_argument("--policy")
    ap.add_argument("--threads", type=int, help="threads per shard")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--scheduler", help="address of a running Dask scheduler")
    ap.add_argument("--local-workers", type=int, default=2)
    ap.add_argument("--inject-failure", type=int, action="append", default=[],
                    metavar="K", help="tests: kill shard K's first attempt")
    a = ap.parse_args()

    from dask.distributed import Client, LocalCluster

    arrears = os.path.abspath(a.arrears) if os.sep in a.arrears else a.arrears
    args = {"input": os.path.abspath(a.input), "output": os.path.abspath(a.output),
            "work": os.path.abspath(a.work), "as_of": a.as_of, "policy": a.policy,
            "threads": a.threads}
    if a.policy:
        args["policy"] = os.path.abspath(a.policy)
    cluster = None
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=a.local_workers, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        started = time.time()
        futures = [client.submit(run_shard, arrears, args, k, a.shards, k in a.inject_failure,
                                 key=f"arrears-shard-{a.as_of}-{k}-of-{a.shards}",
                                 retries=a.retries, pure=False)
                   for k in range(a.shards)]
        failed = []
        for k, f in enumerate(futures):
            try:
                print(f.result(), flush=True)
            except Exception as e:  # a shard past its retries
                failed.append(k)
                print(f"dask_shards: shard {k}/{a.shards} failed after {a.retries} retries: {e}",
                      file=sys.stderr, flush=True)
        if failed:
            print(f"dask_shards: {len(failed)} shard(s) failed; nothing was merged or published",
                  file=sys.stderr)
            return SHARDS_FAILED
        print(f"dask_shards: {a.shards} shards in {time.time() - started:.1f} s", flush=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    cmd = [arrears, "merge", "--work", args["work"], "--output", args["output"],
           "--as-of", a.as_of, "--shards", str(a.shards)]
    if a.policy:
        cmd += ["--policy", args["policy"]]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
