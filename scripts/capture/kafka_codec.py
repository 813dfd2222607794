"""Spec-driven encoder/decoder for Kafka protocol messages (stdlib only).

Reads Apache Kafka's message JSON definitions (the ``messages/*.json`` files
under shared/kafka-protocol) and encodes/decodes any request or response at
any version from/to plain Python dicts keyed by the spec's field names.

Only what the capture tools need is implemented: it is a test helper, not a
general Kafka library.  Tagged fields are decoded when known (unknown tags are
kept as raw bytes under ``_unknown_tags``); when encoding, tagged fields are
written only if the dict carries a value for them.
"""

import json
import os
import re
import struct
import uuid as _uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPEC_DIR = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "shared", "kafka-protocol", "messages"))


# ---------------------------------------------------------------- versions

class VRange:
    """A version range such as "0+", "3-5", "7" or "none"."""

    def __init__(self, text):
        text = (text or "none").strip()
        self.text = text
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), 1 << 15
        elif "-" in text:
            a, b = text.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(text)

    def __contains__(self, v):
        return self.lo <= v <= self.hi

    def __repr__(self):
        return "VRange(%r)" % self.text


def _load_json(path):
    with open(path) as f:
        text = f.read()
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    # strip trailing // comments after values (rare in the specs)
    text = re.sub(r'(?<=[,\[\{])\s*//[^\n]*', "", text)
    return json.loads(text)


PRIMITIVES = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64",
              "float64", "string", "bytes", "records", "uuid"}


class Field:
    def __init__(self, d, structs):
        self.name = d["name"]
        self.type = d["type"].strip()
        self.versions = VRange(d.get("versions", "0+"))
        self.nullable = VRange(d.get("nullableVersions", "none"))
        self.tagged = VRange(d.get("taggedVersions", "none"))
        self.tag = d.get("tag")
        self.flex_override = VRange(d["flexibleVersions"]) if "flexibleVersions" in d else None
        self.default = d.get("default")
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        self.fields = None  # struct fields, if this is a struct / struct array
        if self.elem not in PRIMITIVES:
            if "fields" in d:
                self.fields = [Field(x, structs) for x in d["fields"]]
                structs.setdefault(self.elem, self.fields)
            else:
                self.fields = ("ref", self.elem)

    def resolve(self, structs):
        if isinstance(self.fields, tuple):
            self.fields = structs[self.fields[1]]
        if isinstance(self.fields, list):
            for f in self.fields:
                if not getattr(f, "_resolved", False):
                    f._resolved = True
                    f.resolve(structs)

    def default_value(self, version):
        if self.is_array:
            return []
        if self.fields is not None:
            return None if version in self.nullable else {}
        dv = self.default
        if dv is not None:
            if dv == "null":
                return None
            if self.elem in ("bool",):
                return dv in (True, "true")
            if self.elem in ("int8", "int16", "uint16", "int32", "uint32", "int64"):
                s = str(dv)
                return int(s, 16) if s.lower().startswith("0x") else int(s)
            if self.elem == "float64":
                return float(dv)
            if self.elem == "string":
                return dv
        if self.elem == "bool":
            return False
        if self.elem in ("int8", "int16", "uint16", "int32", "uint32", "int64"):
            return 0
        if self.elem == "float64":
            return 0.0
        if self.elem == "string":
            return ""
        if self.elem in ("bytes", "records"):
            return b""
        if self.elem == "uuid":
            return b"\x00" * 16
        raise ValueError(self.elem)


class Message:
    def __init__(self, d):
        self.name = d["name"]
        self.api_key = d.get("apiKey")
        self.kind = d["type"]
        self.valid = VRange(d["validVersions"])
        self.flexible = VRange(d.get("flexibleVersions", "none"))
        self.unstable_latest = bool(d.get("latestVersionUnstable", False))
        self.listeners = d.get("listeners", [])
        self.structs = {}
        for cs in d.get("commonStructs", []):
            self.structs[cs["name"]] = [Field(x, self.structs) for x in cs["fields"]]
        self.fields = [Field(x, self.structs) for x in d["fields"]]
        for f in self.fields:
            f.resolve(self.structs)
        for fl in self.structs.values():
            for f in fl:
                f.resolve(self.structs)


# ---------------------------------------------------------------- wire helpers

def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short read: want %d at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        s = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(s))[0]

    def uvarint(self):
        shift = 0
        result = 0
        while True:
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def varint(self):
        n = self.uvarint()
        return (n >> 1) ^ -(n & 1)

    def remaining(self):
        return len(self.data) - self.pos


INT_FMT = {"int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
           "uint32": ">I", "int64": ">q", "float64": ">d"}


# ---------------------------------------------------------------- codec

class Codec:
    def __init__(self, spec_dir=DEFAULT_SPEC_DIR):
        self.spec_dir = spec_dir
        self.requests = {}
        self.responses = {}
        self.by_name = {}
        for fn in sorted(os.listdir(spec_dir)):
            if not fn.endswith(".json"):
                continue
            d = _load_json(os.path.join(spec_dir, fn))
            if d.get("type") not in ("request", "response"):
                continue
            m = Message(d)
            self.by_name[m.name] = m
            if m.kind == "request":
                self.requests[m.api_key] = m
            else:
                self.responses[m.api_key] = m

    def api_name(self, api_key):
        m = self.requests.get(api_key)
        return m.name[:-len("Request")] if m else "Api%d" % api_key

    def api_key_of(self, name):
        for k, m in self.requests.items():
            if m.name == name + "Request":
                return k
        raise KeyError(name)

    # --- headers
    def request_header_version(self, api_key, api_version):
        if api_key == 7 and api_version == 0:  # ControlledShutdown v0
            return 0
        m = self.requests[api_key]
        return 2 if api_version in m.flexible else 1

    def response_header_version(self, api_key, api_version):
        if api_key == 18:  # ApiVersions responses always use header v0
            return 0
        m = self.responses[api_key]
        return 1 if api_version in m.flexible else 0

    def parse_request_header(self, data):
        """Returns (header dict, header_version, body offset)."""
        r = Reader(data)
        api_key = r.unpack(">h")
        api_version = r.unpack(">h")
        corr = r.unpack(">i")
        hv = self.request_header_version(api_key, api_version) if api_key in self.requests else 1
        client_id = None
        tags = {}
        if hv >= 1:
            n = r.unpack(">h")
            client_id = None if n < 0 else r.take(n).decode("utf-8", "replace")
        if hv >= 2:
            for _ in range(r.uvarint()):
                tag = r.uvarint()
                size = r.uvarint()
                tags[tag] = r.take(size)
        return ({"api_key": api_key, "api_version": api_version,
                 "correlation_id": corr, "client_id": client_id, "tags": tags},
                hv, r.pos)

    def decode_request(self, data):
        hdr, hv, pos = self.parse_request_header(data)
        m = self.requests[hdr["api_key"]]
        r = Reader(data, pos)
        body = self._decode_struct(r, m.fields, hdr["api_version"], hdr["api_version"] in m.flexible)
        return hdr, hv, body, r.remaining()

    def decode_response(self, api_key, api_version, data, has_header=True):
        r = Reader(data)
        if has_header:
            r.unpack(">i")
            if self.response_header_version(api_key, api_version) >= 1:
                for _ in range(r.uvarint()):
                    r.uvarint()
                    r.take(r.uvarint())
        m = self.responses[api_key]
        return self._decode_struct(r, m.fields, api_version, api_version in m.flexible)

    def encode_response(self, api_key, api_version, correlation_id, body):
        out = bytearray(struct.pack(">i", correlation_id))
        if self.response_header_version(api_key, api_version) >= 1:
            out += uvarint(0)
        m = self.responses[api_key]
        self._encode_struct(out, m.fields, api_version, api_version in m.flexible, body)
        return bytes(out)

    def encode_request(self, api_key, api_version, correlation_id, client_id, body):
        hv = self.request_header_version(api_key, api_version)
        out = bytearray(struct.pack(">hhi", api_key, api_version, correlation_id))
        if hv >= 1:
            if client_id is None:
                out += struct.pack(">h", -1)
            else:
                b = client_id.encode()
                out += struct.pack(">h", len(b)) + b
        if hv >= 2:
            out += uvarint(0)
        m = self.requests[api_key]
        self._encode_struct(out, m.fields, api_version, api_version in m.flexible, body)
        return bytes(out)

    # --- decode
    def _decode_struct(self, r, fields, v, flex):
        out = {}
        tagged = {}
        for f in fields:
            if v not in f.versions:
                continue
            if flex and v in f.tagged:
                tagged[f.tag] = f
                continue
            out[f.name] = self._decode_field(r, f, v, flex)
        if flex:
            for _ in range(r.uvarint()):
                tag = r.uvarint()
                size = r.uvarint()
                raw = r.take(size)
                f = tagged.get(tag)
                if f is not None:
                    out[f.name] = self._decode_field(Reader(raw), f, v, flex)
                else:
                    out.setdefault("_unknown_tags", {})[tag] = raw
        return out

    def _decode_field(self, r, f, v, flex):
        fflex = flex and not (f.flex_override is not None and v not in f.flex_override)
        if f.is_array:
            if fflex:
                n = r.uvarint() - 1
            else:
                n = r.unpack(">i")
            if n < 0:
                return None
            return [self._decode_single(r, f, v, fflex) for _ in range(n)]
        if f.fields is not None and v in f.nullable:
            if r.unpack(">b") < 0:
                return None
        return self._decode_single(r, f, v, fflex)

    def _decode_single(self, r, f, v, flex):
        t = f.elem
        if f.fields is not None:
            return self._decode_struct(r, f.fields, v, flex)
        if t in INT_FMT:
            return r.unpack(INT_FMT[t])
        if t == "bool":
            return r.take(1) != b"\x00"
        if t == "uuid":
            return r.take(16)
        if t == "string":
            n = (r.uvarint() - 1) if flex else r.unpack(">h")
            return None if n < 0 else r.take(n).decode("utf-8", "replace")
        if t in ("bytes", "records"):
            n = (r.uvarint() - 1) if flex else r.unpack(">i")
            return None if n < 0 else r.take(n)
        raise ValueError(t)

    # --- encode
    def _encode_struct(self, out, fields, v, flex, value):
        value = value or {}
        tagged = []
        for f in fields:
            if v not in f.versions:
                continue
            if flex and v in f.tagged:
                if f.name in value and value[f.name] is not None:
                    tagged.append(f)
                continue
            fv = value[f.name] if f.name in value else f.default_value(v)
            self._encode_field(out, f, v, flex, fv)
        if flex:
            tagged.sort(key=lambda f: f.tag)
            out += uvarint(len(tagged))
            for f in tagged:
                buf = bytearray()
                self._encode_field(buf, f, v, flex, value[f.name])
                out += uvarint(f.tag) + uvarint(len(buf)) + buf

    def _encode_field(self, out, f, v, flex, val):
        fflex = flex and not (f.flex_override is not None and v not in f.flex_override)
        if f.is_array:
            if val is None:
                if v not in f.nullable:
                    val = []
                else:
                    out += uvarint(0) if fflex else struct.pack(">i", -1)
                    return
            out += uvarint(len(val) + 1) if fflex else struct.pack(">i", len(val))
            for x in val:
                self._encode_single(out, f, v, fflex, x)
            return
        if f.fields is not None and v in f.nullable:
            if val is None:
                out += struct.pack(">b", -1)
                return
            out += struct.pack(">b", 1)
        self._encode_single(out, f, v, fflex, val)

    def _encode_single(self, out, f, v, flex, val):
        t = f.elem
        if f.fields is not None:
            self._encode_struct(out, f.fields, v, flex, val)
        elif t in INT_FMT:
            out += struct.pack(INT_FMT[t], val)
        elif t == "bool":
            out += b"\x01" if val else b"\x00"
        elif t == "uuid":
            if isinstance(val, _uuid.UUID):
                val = val.bytes
            assert len(val) == 16
            out += val
        elif t == "string":
            if val is None:
                out += uvarint(0) if flex else struct.pack(">h", -1)
            else:
                b = val.encode("utf-8")
                out += uvarint(len(b) + 1) if flex else struct.pack(">h", len(b))
                out += b
        elif t in ("bytes", "records"):
            if val is None:
                out += uvarint(0) if flex else struct.pack(">i", -1)
            else:
                out += uvarint(len(val) + 1) if flex else struct.pack(">i", len(val))
                out += val
        else:
            raise ValueError(t)


# ---------------------------------------------------------------- record batches

def _decompress(codec, data):
    if codec == 0:
        return data
    if codec == 1:
        import gzip
        return gzip.decompress(data)
    if codec == 2:
        import snappy  # python-snappy
        if data[:8] == b"\x82SNAPPY\x00":  # xerial framing
            r = Reader(data, 16)
            out = bytearray()
            while r.remaining():
                n = r.unpack(">i")
                out += snappy.decompress(r.take(n))
            return bytes(out)
        return snappy.decompress(data)
    if codec == 3:
        import lz4.frame
        return lz4.frame.decompress(data)
    if codec == 4:
        import zstandard
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 24)
    raise ValueError("codec %d" % codec)


CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def decode_record_batches(data):
    """Decodes v2 record batches (for verification only)."""
    batches = []
    r = Reader(data)
    while r.remaining() >= 12:
        base_offset = r.unpack(">q")
        length = r.unpack(">i")
        body = Reader(r.take(length))
        b = {"base_offset": base_offset}
        b["partition_leader_epoch"] = body.unpack(">i")
        b["magic"] = body.unpack(">b")
        if b["magic"] != 2:
            raise ValueError("magic %d" % b["magic"])
        b["crc"] = body.unpack(">I")
        attrs = body.unpack(">h")
        b["attributes"] = attrs
        b["codec"] = CODEC_NAMES.get(attrs & 7, str(attrs & 7))
        b["transactional"] = bool(attrs & 0x10)
        b["control"] = bool(attrs & 0x20)
        b["last_offset_delta"] = body.unpack(">i")
        b["base_timestamp"] = body.unpack(">q")
        b["max_timestamp"] = body.unpack(">q")
        b["producer_id"] = body.unpack(">q")
        b["producer_epoch"] = body.unpack(">h")
        b["base_sequence"] = body.unpack(">i")
        n = body.unpack(">i")
        payload = Reader(_decompress(attrs & 7, body.take(body.remaining())))
        recs = []
        for _ in range(n):
            ln = payload.varint()
            rr = Reader(payload.take(ln))
            rr.take(1)  # attributes
            ts_delta = rr.varint()
            off_delta = rr.varint()
            kl = rr.varint()
            key = None if kl < 0 else rr.take(kl)
            vl = rr.varint()
            val = None if vl < 0 else rr.take(vl)
            hdrs = []
            for _ in range(rr.varint()):
                hk = rr.take(rr.varint()).decode()
                hl = rr.varint()
                hdrs.append([hk, None if hl < 0 else rr.take(hl)])
            recs.append({"offset_delta": off_delta,
                         "timestamp": b["base_timestamp"] + ts_delta,
                         "key": key, "value": val, "headers": hdrs})
        b["records"] = recs
        batches.append(b)
    return batches


def crc32c(data):
    """Software CRC-32C (Castagnoli), for verification."""
    global _CRC_TABLE
    try:
        table = _CRC_TABLE
    except NameError:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        _CRC_TABLE = table
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
