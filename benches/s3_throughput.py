#!/usr/bin/env python3
"""Object-store throughput of `arrears run` (SCALING.md, make bench-s3):
the same generated book read from a local folder and from an S3 server on
localhost, published to a local folder and to the server; wall time
(median of RUNS), bytes fetched and requests (from the manifest).

    python benches/s3_throughput.py ARREARS BOOK SERVER [RUNS]

SERVER is `moto` (moto_server from the venv: a single-threaded Python
server) or the path of an `s3s-fs` binary (a Rust S3 server over a local
folder, `cargo install s3s-fs --features binary`). Both run on this
machine and share its 2 cores with arrears: the figures are a floor for a
real store, not its speed.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "objectstore"))
from s3server import free_port, start  # noqa: E402

AS_OF = "2026-11-29"


def start_server(server, port, data, log):
    if server == "moto":
        cmd = [os.path.join(os.path.dirname(sys.executable), "moto_server"),
               "-H", "127.0.0.1", "-p", str(port)]
    else:
        cmd = [server, "--host", "127.0.0.1", "--port", str(port),
               "--access-key", "bench", "--secret-key", "bench-secret", data]
    return start(cmd, port, log)


def timed(cmd, env):
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit(f"{cmd}: exit {p.returncode}\n{p.stderr}")
    return took


def main():
    arrears, book, server = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as t, open(os.path.join(t, "server.log"), "w") as log:
        data = os.path.join(t, "s3data")
        os.makedirs(data)
        proc = start_server(server, port, data, log)
        try:
            env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true",
                       AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench",
                       AWS_SECRET_ACCESS_KEY="bench-secret")
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench-secret")
            s3.create_bucket(Bucket="book")
            s3.create_bucket(Bucket="out")
            stored = 0
            for d, _, names in os.walk(book):
                for f in names:
                    p = os.path.join(d, f)
                    s3.upload_file(p, "book", "b/" + os.path.relpath(p, book))
                    stored += os.path.getsize(p)
            cases = [("local -> local", book, os.path.join(t, "out-local")),
                     ("s3 -> local", "s3://book/b", os.path.join(t, "out-s3in")),
                     ("local -> s3", book, "s3://out/local-in"),
                     ("s3 -> s3", "s3://book/b", "s3://out/s3-in")]
            name = "moto" if server == "moto" else os.path.basename(server)
            print(f"server {name}, book {book}: {stored} bytes in the bucket; "
                  f"median of {runs} runs, --threads 2")
            print(f"{'input -> output':<16} {'wall_s':>7} {'requests':>9} {'fetched_MB':>11} "
                  f"{'fetch_MB_per_s':>15}")
            for label, inp, out in cases:
                walls = []
                for _ in range(runs):
                    if not out.startswith("s3://"):
                        shutil.rmtree(out, ignore_errors=True)
                    walls.append(timed([arrears, "run", "--input", inp, "--output", out,
                                        "--as-of", AS_OF, "--threads", "2"], env))
                wall = statistics.median(walls)
                if out.startswith("s3://"):
                    bucket, prefix = out[5:].split("/", 1)
                    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest/as_of_date={AS_OF}/manifest.json")["Body"].read()
                else:
                    with open(os.path.join(out, "manifest", f"as_of_date={AS_OF}", "manifest.json"), "rb") as f:
                        body = f.read()
                traffic = json.loads(body).get("object_store") or {"requests": 0, "bytes": 0}
                mb = traffic["bytes"] / 1e6
                rate = f"{mb / wall:15.1f}" if inp.startswith("s3://") else f"{'-':>15}"
                print(f"{label:<16} {wall:7.2f} {traffic['requests']:9d} {mb:11.1f} {rate}")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
