#!/usr/bin/env python3
"""The engine test (make engine-test, run by .ci/run): a generated book's
dates are published once by `arrears run` and once by deploy/dask_shards.py
(4 shards as tasks on a local Dask cluster of 2 worker processes, shard 2's
first attempt killed mid-way so that Dask retries it); the published tables
and reports must be the same bytes.

    python tests/engine/dask_shards_test.py target/debug/arrears
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "..", "deploy", "dask_shards.py")


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel.startswith(".arrears") or rel.endswith("manifest.json"):
                continue
            with open(p, "rb") as fh:
                out[rel] = fh.read()
    return out


def check(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def main():
    arrears = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/arrears")
    with tempfile.TemporaryDirectory() as t:
        inp, by_run, by_dask, work = (os.path.join(t, x) for x in ("in", "run", "dask", "work"))
        check([arrears, "generate", "--output", inp, "--loans", "6000", "--as-of", "2026-11-29",
               "--days", "2", "--contact-days", "14", "--row-group", "500", "--shuffle"],
              stdout=subprocess.DEVNULL)
        dates = ["2026-10-29", "2026-11-28", "2026-11-29"]
        for d in dates:
            check([arrears, "run", "--input", inp, "--output", by_run, "--as-of", d],
                  stdout=subprocess.DEVNULL)
        for d in dates:
            cmd = [sys.executable, DRIVER, "--arrears", arrears, "--input", inp,
                   "--output", by_dask, "--work", work, "--as-of", d, "--shards", "4",
                   "--local-workers", "2", "--retries", "2"]
            if d == dates[-1]:
                cmd += ["--inject-failure", "2"]
            check(cmd)
        marker = os.path.join(work, ".injected-failure-2-of-4")
        assert os.path.exists(marker), "the injected failure did not happen"
        a, b = tree(by_run), tree(by_dask)
        assert any("worklist/" in k for k in a), sorted(a)
        assert sorted(a) == sorted(b), (sorted(set(a) ^ set(b)))
        differ = [k for k in a if a[k] != b[k]]
        assert not differ, f"differ: {differ}"
        print(f"engine test: {len(a)} published files equal over {len(dates)} dates "
              f"(4 Dask shard tasks each, one killed and retried)")


if __name__ == "__main__":
    main()
