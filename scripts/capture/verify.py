#!/usr/bin/env python3
"""Sanity-checks the captured fixtures (no clients or network needed).

For every request fixture listed in manifest.json: the request header's api
key / version match the manifest and the file name, the header version is the
one the spec implies, and the whole body decodes with the spec (no trailing
bytes).  For every captured record batch: the batch decodes (decompressing
it), its CRC-32C is right and it matches its .json intent.

Usage: python3 scripts/capture/verify.py [--spec-dir DIR] [--root REPO]
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kafka_codec  # noqa: E402
from capture import check_batch_against_intent  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec-dir", default=kafka_codec.DEFAULT_SPEC_DIR)
    ap.add_argument("--root", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    args = ap.parse_args()
    codec = kafka_codec.Codec(args.spec_dir)
    req_root = os.path.join(args.root, "Tests", "BrookProtocolTests", "Fixtures", "requests")
    rec_root = os.path.join(args.root, "Tests", "BrookRecordsTests", "Fixtures", "captured")
    problems = []
    with open(os.path.join(req_root, "manifest.json")) as fh:
        manifest = json.load(fh)
    listed = set()
    for e in manifest:
        path = os.path.join(req_root, e["file"])
        listed.add(os.path.normpath(path))
        data = open(path, "rb").read()
        m = re.match(r"^(\d{3})-([A-Za-z]+)-v(\d+)(?:-(.+))?\.bin$", os.path.basename(e["file"]))
        if not m:
            problems.append("%s: bad file name" % e["file"])
            continue
        hdr, hv, body, rest = codec.decode_request(data)
        checks = [
            (hdr["api_key"], e["api_key"], "api_key"),
            (hdr["api_version"], e["api_version"], "api_version"),
            (hv, e["header_version"], "header_version"),
            (codec.api_name(hdr["api_key"]), m.group(2), "api name in file name"),
            (hdr["api_version"], int(m.group(3)), "version in file name"),
            (e["api_name"], m.group(2), "api_name"),
            (e["label"], m.group(4) or "", "label"),
            (hdr["correlation_id"], e["correlation_id"], "correlation_id"),
            (hdr["client_id"], e["client_id"], "client_id"),
            (rest, e.get("trailing_bytes", 0), "trailing bytes after the body"),
        ]
        for got, want, what in checks:
            if got != want:
                problems.append("%s: %s is %r, expected %r" % (e["file"], what, got, want))
    for dirpath, _, files in os.walk(req_root):
        for fn in files:
            p = os.path.normpath(os.path.join(dirpath, fn))
            if fn.endswith(".bin") and p not in listed:
                problems.append("%s: not in manifest" % os.path.relpath(p, req_root))
    n_rec = 0
    for fn in sorted(os.listdir(rec_root)):
        if not fn.endswith(".bin"):
            continue
        n_rec += 1
        data = open(os.path.join(rec_root, fn), "rb").read()
        with open(os.path.join(rec_root, fn[:-4] + ".json")) as fh:
            intent = json.load(fh)
        for p in check_batch_against_intent(data, intent):
            problems.append("%s: %s" % (fn, p))
    total = 0
    for root in (req_root, rec_root):
        for dirpath, _, files in os.walk(root):
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print("%d request fixtures, %d record batches, %d bytes in all" % (len(manifest), n_rec, total))
    if problems:
        print("\n".join(problems))
        return 1
    print("all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
