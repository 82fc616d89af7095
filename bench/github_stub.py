#!/usr/bin/env python3
"""A fast stub of GitHub's GET /users/{login}/gists for benchmarks (asyncio, stdlib only).

Every login exists. A user's gists are generated from the login (GIST_COUNT of them, GitHub's
shape); users whose crc32(login) % 100 < --change-pct get one more gist every --change-every
seconds (so rescans of them see a 200, the others a 304). Each page carries a weak ETag of its
body; If-None-Match with that ETag gets a 304. x-ratelimit-* say a large, untouched budget.

Requests are kept in memory; GET /_log?since=<epoch> returns "time login status" lines (and
GET /_log/clear empties it). Listens on 127.0.0.1 only.

    github_stub.py --port 9000 [--gists 3] [--change-pct 1] [--change-every 20]
"""

import argparse
import asyncio
import hashlib
import json
import time
import zlib

LOG = []  # (time, login, status)


def make_gists(login, n, extra, t0):
    gists = []
    for i in range(n + extra):
        # Newest first: the extra (changed) gists are the newest.
        k = n + extra - 1 - i
        gid = hashlib.md5(f"bench/{login}/{k}".encode()).hexdigest()[:20]
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 - 86400 * (n - k)))
        fname = f"file{k}.txt"
        gists.append({
            "url": f"https://api.github.com/gists/{gid}",
            "id": gid,
            "html_url": f"https://gist.github.com/{gid}",  # GitHub's documented form
            "files": {fname: {"filename": fname, "type": "text/plain", "language": "Text",
                              "raw_url": f"https://gist.githubusercontent.com/{login}/{gid}/raw/0/{fname}",
                              "size": 42}},
            "public": True,
            "created_at": created,
            "updated_at": created,
            "description": f"benchmark gist {k} of {login}",
            "comments": 0,
            "owner": {"login": login, "id": zlib.crc32(login.encode()), "type": "User", "site_admin": False},
            "truncated": False,
        })
    return gists


class Stub:
    def __init__(self, args):
        self.args = args
        self.t0 = int(time.time())
        self.cache = {}  # (login, extra) -> (etag, body)

    def page(self, login):
        extra = 0
        if zlib.crc32(login.encode()) % 100 < self.args.change_pct:
            extra = int((time.time() - self.t0) // self.args.change_every)
        key = (login, extra)
        hit = self.cache.get(key)
        if hit is None:
            body = json.dumps(make_gists(login, self.args.gists, extra, self.t0), separators=(",", ":")).encode()
            etag = 'W/"' + hashlib.md5(body).hexdigest() + '"'
            hit = (etag, body)
            if len(self.cache) > 200000:
                self.cache.clear()
            self.cache[key] = hit
        return hit

    def respond(self, method, target, headers):
        path, _, query = target.partition("?")
        now = time.time()
        if path.startswith("/_log"):
            if path == "/_log/clear":
                LOG.clear()
                return 200, [], b"cleared\n"
            since = 0.0
            for kv in query.split("&"):
                if kv.startswith("since="):
                    since = float(kv[6:])
            out = "".join(f"{t:.3f} {l} {s}\n" for (t, l, s) in LOG if t >= since)
            return 200, [("Content-Type", "text/plain")], out.encode()
        parts = path.split("/")
        if method != "GET" or len(parts) != 4 or parts[1] != "users" or parts[3] != "gists":
            return 404, [], b'{"message":"Not Found"}'
        login = parts[2].lower()
        etag, body = self.page(login)
        reset = int(now) + 3600
        h = [("Content-Type", "application/json; charset=utf-8"), ("ETag", etag),
             ("x-ratelimit-limit", "1000000"), ("x-ratelimit-remaining", "999999"),
             ("x-ratelimit-reset", str(reset)), ("x-ratelimit-used", "1"), ("x-ratelimit-resource", "core")]
        inm = headers.get("if-none-match")
        if inm is not None and any(t.strip().removeprefix("W/") == etag.removeprefix("W/") for t in inm.split(",")):
            LOG.append((now, login, 304))
            return 304, h, b""
        LOG.append((now, login, 200))
        return 200, h, body

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = (lines[0].split(" ") + ["", "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0") or 0)
                if n:
                    await reader.readexactly(n)
                status, h, body = self.respond(method, target, headers)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "Status")
                out = [f"HTTP/1.1 {status} {reason}"]
                out += [f"{k}: {v}" for k, v in h]
                out.append(f"Content-Length: {len(body)}")
                out.append("Connection: " + ("keep-alive" if keep else "close"))
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--gists", type=int, default=3)
    ap.add_argument("--change-pct", type=float, default=1.0)
    ap.add_argument("--change-every", type=float, default=20.0)
    args = ap.parse_args()
    stub = Stub(args)
    server = await asyncio.start_server(stub.handle, "127.0.0.1", args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
