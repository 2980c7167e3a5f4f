#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ from the checked-in fixtures.

Run from the repository root: python3 tests/fuzz/make_seeds.py. The control-byte prefixes match
the `input` consumption order of each target in tests/fuzz/targets/.
"""
import gzip
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REC = os.path.join(ROOT, "tests/fixtures/percipio-recorded")
SMALL = os.path.join(ROOT, "tests/fixtures/percipio/recorded-small")
SHARED = os.path.join(ROOT, "tests/fixtures/baton-sdk")
OUT = os.path.join(ROOT, "tests/fuzz/corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def head_of_array(path, n):
    with open(path, encoding="utf-8") as f:
        arr = json.load(f)
    return json.dumps(arr[:n], ensure_ascii=False).encode()


def splitter(seeds):
    return b"".join(struct.pack("<H", s & 0xFFFF) for s in seeds)


SPLITS = [
    [0] * 8,                      # one-byte pieces
    [0x8003, 5, 100, 0x8001, 256, 7, 31, 0x8006],
    [256] * 8,
]

# Pages.
put("users_page", "users0.json", read(os.path.join(REC, "users0.json")))
put("users_page", "small3.json", head_of_array(os.path.join(SMALL, "users.json"), 3))
put("users_page", "empty.json", "[]")
put("catalog_page", "courses0.json", read(os.path.join(REC, "courses0.json")))
put("catalog_page", "small3.json", head_of_array(os.path.join(SMALL, "catalog.json"), 3))
put("search_results", "search_content.json", read(os.path.join(REC, "search_content.json")))
put("report_status", "reportStatus0.json", read(os.path.join(REC, "reportStatus0.json")))
put("report_status", "processed.json", '{"reportId":"a1b2","status":"PROCESSED"}')
put("report_status", "failed.json", '{"id":"x","status":"FAILED","error":"boom"}')
put("report_status", "errors.json", '{"errors":[{"code":"E1","additionalInfo":"bad org"}],"message":"m"}')
put("report_status", "html.txt", "<html><body>502 Bad Gateway</body></html>")

# Report stream: opts=0 (per_object), block u16, batch byte, splitter.
report = read(os.path.join(REC, "report.json"))
small_report = head_of_array(os.path.join(SMALL, "report.json"), 12)
for i, s in enumerate(SPLITS):
    put("report_stream", f"report{i}", bytes([i & 3]) + struct.pack("<H", 100) + bytes([3]) + splitter(s) + report)
put("report_stream", "small", bytes([0]) + struct.pack("<H", 1) + bytes([1]) + splitter(SPLITS[1]) + small_report)
put("report_stream", "truncated", bytes([1]) + struct.pack("<H", 9) + bytes([2]) + splitter(SPLITS[2]) + report[:700])

# HTTP responses: opts=8 (no body limit), max header u16, splitter, bytes.
def http(name, text, opts=8, max_header=4096, split=SPLITS[1]):
    prefix = bytes([opts]) + struct.pack("<H", max_header)
    if not opts & 8:
        prefix += struct.pack("<H", 4096)
    put("http_response", name, prefix + splitter(split) + text)

body = b'[{"id":"1"}]'
http("content_length", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-total-count: 1\r\n"
     b"Content-Length: %d\r\n\r\n" % len(body) + body)
http("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"id\r\n7\r\n\":\"1\"}]\r\n0\r\n"
     b"X-Trailer: t\r\n\r\n", split=SPLITS[0])
gz = gzip.compress(body * 20)
http("gzip", b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz) + gz, opts=0)
http("continue", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
     b"Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
http("close_delimited", b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" + body, opts=8 | 2)
http("head", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", opts=8 | 1)
http("small_header_limit", b"HTTP/1.1 200 OK\r\nLink: </a?offset=1000>; rel=\"last\"\r\nContent-Length: 0\r\n\r\n",
     max_header=40)

# Header values.
for i, v in enumerate([
    '</v2/organizations/o/catalog-content?offset=2000&max=1000&pagingRequestId=p>; page="3"; per_page="1000"; rel="last"',
    '<https://api.percipio.com/x?max=10&offset=20>; rel="next last", <https://a/b?offset=0>; rel=first',
    " 12345 ", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994", "1735689700", "-1", "99999999999999999999",
]):
    put("headers", f"h{i}", v)

# Config: byte = number of arguments, then NUL-separated arguments and NAME=VALUE environment entries.
def cfg(name, args, env):
    put("config", name, bytes([len(args)]) + b"\0".join(a.encode() for a in args + env))

org = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
cfg("flags", ["--api-token", "Tok3nValueXYZ123", "--organization-id", org, "--file", "out.c1z",
              "--concurrency", "4", "--max-page-bytes", "64M", "--report-timeout", "1h30m"], [])
cfg("env", [], ["BATON_API_TOKEN=Tok3nValueXYZ123", "BATON_ORGANIZATION_ID=" + org,
                "BATON_LIMITED_COURSES=a, b,,c", "BATON_FILE_MODE=0640", "BATON_BASE_URL=http://127.0.0.1:8080/"])
cfg("bad", ["--api-token=Tok3nValueXYZ123", "--organization-id=nope", "--metrics-addr", "[::1]:9090"], [])
cfg("commands", ["capabilities", "--log-level", "debug"], [])

# c1z reader: byte 1 = raw file, byte 0 = wrap the rest as magic + zstd frame (a SQLite database).
ref = read(os.path.join(SHARED, "reference-small.c1z"))
put("c1z_reader", "reference_raw", b"\x01" + ref)
db = subprocess.run(["zstd", "-d", "-c"], input=ref[5:], capture_output=True, check=True).stdout
put("c1z_reader", "reference_db", b"\x00" + db)
put("c1z_reader", "truncated", b"\x01" + ref[:2000])
print("seeds written under", OUT, file=sys.stderr)
