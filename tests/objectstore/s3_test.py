#!/usr/bin/env python3
"""The object-store test (make s3-test, run by .ci/run): a real
S3-compatible server (moto in server mode, with authentication on) on
localhost holds a generated book; `arrears run --input s3://...` must
publish the same tables and report as the local run of the same files,
fetch only the column chunks it decodes (the book carries a large column
the contract does not read), and fail with a clear message and its exit
code, publishing nothing, on a missing prefix or bucket (3), a wrong secret
key (11) and an unreachable endpoint (11). Shards read from the bucket and
merged publish the same bytes too.

Publication on the store (`--output s3://...`, README "Running on object
storage and on a cluster"): two nights published to a bucket, followed from
their manifests, equal the local runs byte for byte (so the second night
read its history and the earlier worklist from the bucket); nothing outside
`_runs/`, `manifest/` and the archive page `report/index.html` (whose
links reach the reports); a run killed during its uploads publishes
nothing, on a fresh date and on a rerun; a rerun replaces the date and
removes the replaced run's files; merge publishes to the store too; a
missing output bucket exits 6 and a refused credential 11 before any data
is read.

    python tests/objectstore/s3_test.py target/debug/arrears
"""
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import boto3
import duckdb

from s3server import free_port, start

AS_OF = "2026-11-29"
TAIL = 64 * 1024  # the footer suffix arrears fetches per file (src/input/object.rs)


def start_moto(port, log):
    # INITIAL_NO_AUTH_ACTION_COUNT turns moto's authentication on after the
    # first three requests, which create the user whose keys the test uses:
    # from then on a wrong secret is refused as S3 refuses it.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    return start([server, "-H", "127.0.0.1", "-p", str(port)], port, log, env)


def credentials(endpoint):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="arrears")
    key = iam.create_access_key(UserName="arrears")["AccessKey"]
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="arrears", PolicyName="s3", PolicyDocument=json.dumps(policy))
    return key["AccessKeyId"], key["SecretAccessKey"]


def widen(book):
    """Adds a `notes` column (free text, about 130 bytes a loan) to every
    loans file, rewritten by DuckDB: a column the contract does not read."""
    con = duckdb.connect()
    for d, _, files in os.walk(os.path.join(book, "loans")):
        for f in files:
            p = os.path.join(d, f)
            tmp = p + ".tmp"
            con.execute(
                f"COPY (SELECT *, md5(loan_id::VARCHAR) || md5(loan_id::VARCHAR || 'a') || "
                f"md5(loan_id::VARCHAR || 'b') || md5(loan_id::VARCHAR || 'c') AS notes "
                f"FROM read_parquet('{p}')) TO '{tmp}' (FORMAT PARQUET, ROW_GROUP_SIZE 4000)")
            os.replace(tmp, p)


def notes_bytes(book):
    con = duckdb.connect()
    pattern = os.path.join(book, "loans", "*", "*.parquet")
    return con.execute(
        f"SELECT sum(total_compressed_size) FROM parquet_metadata('{pattern}') "
        f"WHERE path_in_schema = 'notes'").fetchone()[0]


def upload(s3, book, bucket, prefix):
    s3.create_bucket(Bucket=bucket)
    total, files = 0, 0
    for d, _, names in os.walk(book):
        for f in names:
            p = os.path.join(d, f)
            s3.upload_file(p, bucket, prefix + "/" + os.path.relpath(p, book))
            total += os.path.getsize(p)
            files += 1
    return total, files


def tree(root, input_root):
    """The published files; run-specific bits of the manifest dropped and
    the input and output roots' names replaced: the only things that may
    differ."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel.startswith(".arrears"):
                continue
            with open(p, "rb") as fh:
                data = fh.read()
            if rel.endswith("manifest.json"):
                m = json.loads(data)
                for k in ("timings", "object_store"):
                    m.pop(k, None)
                m["memory"].pop("peak_rss_bytes", None)
                data = json.dumps(m, sort_keys=True, indent=1).encode()
            for name, spelled in ((input_root, b"<INPUT>"), (root, b"<OUTPUT>")):
                for spelling in (name, name.replace("/", "&#x2F;")):
                    data = data.replace(spelling.encode(), spelled)
            out[rel] = data
    return out


def normal_manifest(data):
    """A manifest without what differs between runs and between roots."""
    m = json.loads(data)
    for k in ("timings", "object_store"):
        m.pop(k, None)
    m["memory"].pop("peak_rss_bytes", None)
    for o in m["outputs"]:
        o["path"] = o["table"] + "/" + os.path.basename(o["path"])
    m["report"] = os.path.basename(m["report"])
    if "workbook" in m:
        m["workbook"] = os.path.basename(m["workbook"])
    return json.dumps(m, sort_keys=True, indent=1).encode()


def local_published(root, date, input_root):
    """A local root's date, keyed by path under the root."""
    out = {}
    for k, v in tree(root, input_root).items():
        if f"as_of_date={date}" in k:
            out[k] = normal_manifest(v) if k.endswith("manifest.json") else v
    return out


def remote_published(s3, bucket, prefix, date, input_root):
    """A date on the store as a reader finds it: its manifest, and exactly
    the files the manifest names, keyed as the local layout."""
    part = f"as_of_date={date}"
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest/{part}/manifest.json")["Body"].read()
    m = json.loads(body)
    named = [(o["table"], o["path"]) for o in m["outputs"]] + [("report", m["report"]), ("report", m["workbook"])]
    out = {f"manifest/{part}/manifest.json":
           normal_manifest(body.replace(input_root.encode(), b"<INPUT>"))}
    runs = f"s3://{bucket}/{prefix}/_runs/{part}/"
    for table, path in named:
        assert path.startswith(runs), path
        key = path[len(f"s3://{bucket}/"):]
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if table == "report":
            data = data.replace(input_root.encode(), b"<INPUT>")
            data = data.replace(input_root.replace("/", "&#x2F;").encode(), b"<INPUT>")
        out[f"{table}/{part}/{os.path.basename(path)}"] = data
    return out, m


def keys(s3, bucket, prefix):
    got = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return sorted(o["Key"] for o in got.get("Contents", []))


def same(a, b, what):
    assert sorted(a) == sorted(b), (what, sorted(set(a) ^ set(b)))
    differ = [k for k in a if a[k] != b[k]]
    for k in differ:
        sys.stdout.writelines(difflib.unified_diff(
            a[k].decode(errors="replace").splitlines(True),
            b[k].decode(errors="replace").splitlines(True), "a/" + k, "b/" + k, n=1))
    assert not differ, f"{what}: differ: {differ}"


def run(cmd, env, expect):
    print("+", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != expect:
        raise SystemExit(f"exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p


def published(out):
    return os.path.isdir(os.path.join(out, "manifest", f"as_of_date={AS_OF}"))


def main():
    arrears = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/arrears")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as t, open(os.path.join(t, "moto.log"), "w") as log:
        server = start_moto(port, log)
        try:
            key, secret = credentials(endpoint)
            env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true",
                       AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret)
            book = os.path.join(t, "book")
            run([arrears, "generate", "--output", book, "--loans", "20000", "--as-of", AS_OF,
                 "--days", "2"], env, 0)
            widen(book)
            total, files = upload(s3, book, "lender-book", "nightly")
            remote = "s3://lender-book/nightly"

            # The same files, read locally and from the bucket.
            local_out, remote_out = os.path.join(t, "local"), os.path.join(t, "remote")
            run([arrears, "run", "--input", book, "--output", local_out, "--as-of", AS_OF], env, 0)
            run([arrears, "run", "--input", remote, "--output", remote_out, "--as-of", AS_OF], env, 0)
            a, b = tree(local_out, book), tree(remote_out, remote)
            assert any(k.startswith("worklist/") for k in a), sorted(a)
            same(a, b, "local and s3:// input")
            print(f"ok: {len(a)} published files equal for local and s3:// input")

            # Only the decoded column chunks were fetched.
            with open(os.path.join(remote_out, "manifest", f"as_of_date={AS_OF}",
                                   "manifest.json")) as fh:
                traffic = json.load(fh)["object_store"]
            notes = notes_bytes(book)
            bound = total - notes + files * TAIL
            print(f"object store: {traffic['requests']} requests, {traffic['bytes']} bytes fetched "
                  f"of {total} stored in {files} objects ({notes} bytes of them the unread "
                  f"`notes` column); bound {bound}")
            assert notes > 4 * files * TAIL, "the unread column is too small to tell"
            assert traffic["bytes"] <= bound, "fetched bytes of columns it does not read"

            # Shards read from the bucket, merged: the same bytes as run.
            work, shard_out = os.path.join(t, "work"), os.path.join(t, "shards")
            for k in range(3):
                run([arrears, "shard", "--input", remote, "--output", shard_out, "--work", work,
                     "--as-of", AS_OF, "--shard", f"{k}/3"], env, 0)
            run([arrears, "merge", "--work", work, "--output", shard_out, "--as-of", AS_OF,
                 "--shards", "3"], env, 0)
            c = tree(shard_out, remote)
            # (the manifest says how the run was partitioned: not compared)
            differ = [k for k in a if a[k] != c.get(k) and not k.endswith("manifest.json")]
            assert not differ, f"shards from s3:// differ from run: {differ}"
            print("ok: 3 shards read from s3:// and merged equal run")

            # Failures: a clear message, the documented exit code, nothing published.
            cases = [
                ("missing prefix", dict(env), "s3://lender-book/no-such-prefix", 3,
                 "does not exist"),
                ("missing bucket", dict(env), "s3://no-such-bucket/nightly", 3,
                 "no such bucket or object"),
                ("wrong secret", dict(env, AWS_SECRET_ACCESS_KEY="not-the-secret"), remote, 11,
                 "refused the credentials"),
                ("unreachable endpoint", dict(env, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"),
                 remote, 11, "could not be reached"),
            ]
            for name, e, inp, code, words in cases:
                out = os.path.join(t, "fail-" + re.sub(r"\W", "-", name))
                started = time.monotonic()
                p = run([arrears, "run", "--input", inp, "--output", out, "--as-of", AS_OF], e, code)
                took = time.monotonic() - started
                assert words in p.stderr and inp in p.stderr, p.stderr
                assert not published(out), f"{name}: something was published"
                assert took < 60, f"{name}: took {took:.0f} s to fail"
                print(f"ok: {name}: exit {code} in {took:.1f} s: {p.stderr.strip()[:160]}")
            publish_on_store(arrears, env, s3, t, book, remote)
        finally:
            server.kill()
            server.wait()


def publish_on_store(arrears, env, s3, t, book, remote):
    before = "2026-11-28"
    s3.create_bucket(Bucket="lender-out")
    out = "s3://lender-out/nightly"
    local = os.path.join(t, "local-two-nights")
    for d in (before, AS_OF):
        run([arrears, "run", "--input", book, "--output", local, "--as-of", d], env, 0)
        run([arrears, "run", "--input", remote, "--output", out, "--as-of", d], env, 0)
    for d in (before, AS_OF):
        got, m = remote_published(s3, "lender-out", "nightly", d, remote)
        same(local_published(local, d, book), got, f"s3:// output of {d}")
    assert m["periods"][0]["tiers_from"] == "worklist", m["periods"]
    stray = [k for k in keys(s3, "lender-out", "nightly")
             if not k.startswith(("nightly/_runs/", "nightly/manifest/")) and k != "nightly/report/index.html"]
    assert not stray, stray
    # The archive page: both nights, newest first, linking into the run folders.
    index = s3.get_object(Bucket="lender-out", Key="nightly/report/index.html")["Body"].read().decode()
    hrefs = [h.split('"')[0] for h in index.split('href="')[1:]]
    assert len(hrefs) == 2 and all(h.startswith("../_runs/as_of_date=") for h in hrefs), hrefs
    assert AS_OF in hrefs[0] and before in hrefs[1], hrefs
    for h in hrefs:
        s3.head_object(Bucket="lender-out", Key="nightly/" + h[len("../"):])
    print(f"ok: two nights published to {out} equal the local runs "
          f"(history and the earlier worklist read from the store)")

    # A run killed during its uploads: on a fresh date nothing is published;
    # on a published date the old manifest and every file it names stay.
    fresh = "s3://lender-out/killed"
    p = subprocess.run([arrears, "run", "--input", remote, "--output", fresh, "--as-of", AS_OF],
                       env=dict(env, ARREARS_CRASH_AFTER_UPLOADS="3"), capture_output=True)
    assert p.returncode != 0, "the crash hook did not fire"
    ks = keys(s3, "lender-out", "killed")
    assert ks and not any("/manifest/" in k for k in ks), ks
    key = f"nightly/manifest/as_of_date={AS_OF}/manifest.json"
    old = s3.get_object(Bucket="lender-out", Key=key)["Body"].read()
    p = subprocess.run([arrears, "run", "--input", remote, "--output", out, "--as-of", AS_OF],
                       env=dict(env, ARREARS_CRASH_AFTER_UPLOADS="5"), capture_output=True)
    assert p.returncode != 0, "the crash hook did not fire"
    assert s3.get_object(Bucket="lender-out", Key=key)["Body"].read() == old
    got, m = remote_published(s3, "lender-out", "nightly", AS_OF, remote)
    same(local_published(local, AS_OF, book), got, "after a killed rerun")
    print(f"ok: a killed run published nothing ({len(ks)} unnamed objects left on a fresh "
          f"prefix); a killed rerun left the published date as it was")

    # A rerun replaces the date in one step and removes the replaced run.
    old_run = m["outputs"][0]["path"].split("/")[6]
    run([arrears, "run", "--input", remote, "--output", out, "--as-of", AS_OF], env, 0)
    got, m = remote_published(s3, "lender-out", "nightly", AS_OF, remote)
    same(local_published(local, AS_OF, book), got, "after a rerun")
    new_run = m["outputs"][0]["path"].split("/")[6]
    runs = {k.split("/")[3] for k in keys(s3, "lender-out", "nightly")
            if k.startswith(f"nightly/_runs/as_of_date={AS_OF}/")}
    assert new_run != old_run and new_run in runs and old_run not in runs, (old_run, new_run, runs)
    print(f"ok: a rerun replaced {old_run} by {new_run}; the killed run's folder is left "
          f"until it is a day old ({sorted(runs - {new_run})})")

    # Merge publishes to the store as run does (every file as a multipart
    # upload here, which large worklist files are).
    env = dict(env, ARREARS_ONE_PUT_BYTES="0")
    work = os.path.join(t, "work-out")
    shard_out = "s3://lender-out/shards"
    for d in (before, AS_OF):
        for k in range(2):
            run([arrears, "shard", "--input", remote, "--output", shard_out, "--work", work,
                 "--as-of", d, "--shard", f"{k}/2"], env, 0)
        run([arrears, "merge", "--work", work, "--output", shard_out, "--as-of", d,
             "--shards", "2"], env, 0)
    got, _ = remote_published(s3, "lender-out", "shards", AS_OF, remote)
    want = local_published(local, AS_OF, book)
    differ = [k for k in want if want[k] != got.get(k) and not k.endswith("manifest.json")]
    assert not differ, f"merge to s3:// differs from run: {differ}"
    print("ok: 2 shards merged to s3:// (multipart uploads) equal run")

    # Output failures: before any data is read, nothing published.
    cases = [
        ("missing output bucket", dict(env), "s3://no-such-bucket/out", 6, "no such bucket"),
        ("wrong secret on output", dict(env, AWS_SECRET_ACCESS_KEY="not-the-secret"),
         "s3://lender-out/denied", 11, "refused the credentials"),
    ]
    for name, e, target, code, words in cases:
        p = run([arrears, "run", "--input", book, "--output", target, "--as-of", AS_OF], e, code)
        assert words in p.stderr and target in p.stderr, p.stderr
        print(f"ok: {name}: exit {code}: {p.stderr.strip()[:160]}")
    assert not keys(s3, "lender-out", "denied")


if __name__ == "__main__":
    main()
