"""The deterministic records every capture producer sends (shared by the
client scripts and by capture.py, which writes them into the .json intent
files next to the captured record batches)."""

BASE_TIMESTAMP = 1700000000000  # 2023-11-14T22:13:20Z

# Values are padded so that every codec actually shrinks the batch: both
# librdkafka and kafka-python silently send a batch uncompressed when
# compression does not make it smaller (tiny "value-N" batches with lz4 or
# snappy framing overhead would not be compressed at all).
VALUE_PADDING = "-" + "x" * 48


def standard_records(with_timestamps=True):
    """Five records: a plain one, one with a header, one with a null key,
    a tombstone (null value) and a plain one."""
    recs = []
    for i in range(5):
        recs.append({
            "key": None if i == 2 else "key-%d" % i,
            "value": None if i == 3 else "value-%d%s" % (i, VALUE_PADDING),
            "headers": [["h1", "v1"]] if i == 1 else [],
            "timestamp": BASE_TIMESTAMP + i if with_timestamps else None,
        })
    return recs


def kcat_records():
    """What the kcat producer sends: kcat has no per-record headers or
    timestamps, so every record carries the -H header and librdkafka stamps
    the wall-clock time (unknown to us: null)."""
    recs = standard_records(with_timestamps=False)
    for r in recs:
        r["headers"] = [["h1", "v1"]]
    return recs


def kcat_input(records):
    """stdin lines for `kcat -P -K : -Z`: a line without ':' has a null key,
    an empty value after ':' is sent as NULL thanks to -Z."""
    lines = []
    for r in records:
        if r["key"] is None:
            lines.append(r["value"] or "")
        else:
            lines.append("%s:%s" % (r["key"], r["value"] or ""))
    return ("\n".join(lines) + "\n").encode()
