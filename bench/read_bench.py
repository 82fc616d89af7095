#!/usr/bin/env python3
"""Read-path benchmark (issue 8, docs/read-path.md): the read endpoints against NGINX alone.

One nginx with 2 workers serves both the module's endpoint and a static location serving the same
bytes (`return 200 '<bytes>'` cannot hold more than NGINX's 4 KB configuration token, so the bytes
are a file served with open_file_cache: no disk access per request either); wrk measures them
interleaved (A B A B A B, -t2 -c64) and the ratio of the medians is printed with each side's p99.
Scenarios:

  * GET /trackedusers, 100 users with 5 gists each (tracked through POST /user)
  * GET /user/{login}, and the same with a matching If-None-Match (304s)
  * GET /trackedusers, 10,000 users, the first page of 1,000
  * 100,000 users: while /trackedusers pages and GET /user are hammered, the slowest command in
    Redis' SLOWLOG and GET /health's p99
  * Redis memory per tracked user with 5 gists (INFO used_memory delta over 1,000 POST /user)
  * worker RSS over many reads after warm-up

Everything on 127.0.0.1 in a temporary directory; Python 3 stdlib, wrk, redis-server, nginx.
    bench/read_bench.py BUILD_DIR [--duration 5]
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Bench:
    def __init__(self, build_dir, duration):
        self.module = os.path.join(os.path.abspath(build_dir), "ngx_http_gist_module.so")
        self.duration = duration
        self.work = tempfile.mkdtemp(prefix="gist-read-bench.")
        os.chmod(self.work, 0o755)  # the workers (nobody) read the static copies from here
        self.redis_port = free_port()
        self.stub_port = free_port()
        self.http_port = free_port()
        self.procs = []
        self.nginx_conf = os.path.join(self.work, "nginx.conf")

    # --- processes ---------------------------------------------------------------------------
    def start(self):
        self.procs.append(subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--slowlog-log-slower-than", "10000", "--logfile", os.path.join(self.work, "redis.log")],
            stdout=subprocess.DEVNULL))
        self.procs.append(subprocess.Popen(
            [sys.executable, os.path.join(HERE, "github_stub.py"), "--port", str(self.stub_port), "--gists", "5",
             "--change-pct", "0"], stdout=subprocess.DEVNULL))
        if not (wait_port(self.redis_port) and wait_port(self.stub_port)):
            raise SystemExit("redis or the stub did not start")

    def redis(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.redis_port)] + [str(a) for a in args],
                             capture_output=True, text=True, check=True).stdout
        return out.strip()

    def redis_pipe(self, commands):
        def enc(c):
            parts = [str(x).encode() for x in c]
            return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        data = b"".join(enc(c) for c in commands)
        subprocess.run(["redis-cli", "-p", str(self.redis_port), "--pipe"], input=data, check=True,
                       stdout=subprocess.DEVNULL)

    def used_memory(self):
        m = re.search(r"^used_memory:(\d+)", self.redis("INFO", "memory"), re.M)
        return int(m.group(1))

    def write_conf(self, statics):
        locations = ""
        for i, body in enumerate(statics):
            path = os.path.join(self.work, f"static{i}.json")
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o644)
            locations += f"        location = /static{i} {{ default_type application/json; alias {path}; }}\n"
        conf = f"""load_module {self.module};
worker_processes 2;
pid {self.work}/nginx.pid;
error_log {self.work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile off;    # like return 200 '<bytes>': written from memory, not by sendfile
    open_file_cache max=16 inactive=1h;
    open_file_cache_valid 1h;
    client_body_temp_path {self.work}/tmp;
    gist_redis 127.0.0.1:{self.redis_port};
    gist_github_api_url http://127.0.0.1:{self.stub_port};
    server {{
        listen 127.0.0.1:{self.http_port} backlog=4096;
{locations}        location /user/          {{ gist_user; }}
        location = /trackedusers {{ gist_tracked_users; }}
        location = /health       {{ gist_health; }}
    }}
}}
"""
        with open(self.nginx_conf, "w") as f:
            f.write(conf)

    def nginx(self, *args):
        r = subprocess.run(["nginx", "-p", self.work + "/", "-c", self.nginx_conf] + list(args),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"nginx {' '.join(args)} failed: {r.stderr}")

    def start_nginx(self, statics=()):
        os.makedirs(os.path.join(self.work, "tmp"), exist_ok=True)
        self.write_conf(list(statics))
        if os.path.exists(os.path.join(self.work, "nginx.pid")):
            self.nginx("-s", "reload")
            time.sleep(1.0)
        else:
            self.nginx()
            wait_port(self.http_port)

    def stop(self):
        if os.path.exists(os.path.join(self.work, "nginx.pid")):
            subprocess.run(["nginx", "-p", self.work + "/", "-c", self.nginx_conf, "-s", "stop"],
                           stderr=subprocess.DEVNULL)
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def worker_pids(self):
        master = int(open(os.path.join(self.work, "nginx.pid")).read())
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    # --- HTTP --------------------------------------------------------------------------------
    def get(self, path, method="GET", headers=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def track(self, logins, threads=32):
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(lambda l: self.get(f"/user/{l}", "POST")[0], logins))
        bad = [s for s in statuses if s not in (200, 201)]
        if bad:
            raise SystemExit(f"tracking failed: {bad[:5]}")

    def wrk(self, path, headers=(), duration=None, connections=64):
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(duration or self.duration))}s", "--latency"]
        for h in headers:
            cmd += ["-H", h]
        out = subprocess.run(cmd + [f"http://127.0.0.1:{self.http_port}{path}"], capture_output=True,
                             text=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        errors = re.search(r"Socket errors:.*", out)
        return {"rate": rate, "p99_ms": float(p99.group(1)) * scale, "requests": int(re.search(r"(\d+) requests in", out).group(1)),
                "non2xx": int(non2xx.group(1)) if non2xx else 0, "errors": errors.group(0) if errors else ""}

    def compare(self, name, module_path, static_path, headers=(), rounds=3):
        a, b = [], []
        for _ in range(rounds):
            a.append(self.wrk(module_path, headers))
            b.append(self.wrk(static_path))
        ra = statistics.median(x["rate"] for x in a)
        rb = statistics.median(x["rate"] for x in b)
        pa = statistics.median(x["p99_ms"] for x in a)
        pb = statistics.median(x["p99_ms"] for x in b)
        bad = sum(x["non2xx"] for x in a + b)
        if bad:
            raise SystemExit(f"{name}: {bad} answers were not 2xx/3xx: the comparison would be meaningless")
        print(f"{name:44s} {ra:10.0f} {rb:10.0f} {ra / rb:7.2f} {pa:9.2f} {pb:9.2f}", flush=True)
        return ra / rb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_SECONDS", "5")))
    ap.add_argument("--rss-reads", type=int, default=int(os.environ.get("BENCH_RSS_READS", "1000000")))
    args = ap.parse_args()
    b = Bench(args.build_dir, args.duration)
    try:
        b.start()
        b.start_nginx()
        # --- memory per user: 1,000 users with 5 gists through POST /user ------------------
        b.track(["warmup"])
        m0 = b.used_memory()
        b.track([f"mem{i:04d}" for i in range(1000)])
        time.sleep(0.5)
        per_user = (b.used_memory() - m0) / 1000
        print(f"Redis memory per tracked user with 5 gists: {per_user:.0f} B "
              f"(INFO used_memory delta over 1,000 POST /user; target <= 2048)")
        b.redis("FLUSHALL")

        # --- 100 users ---------------------------------------------------------------------
        b.track([f"user{i:03d}" for i in range(100)])
        _, h, users_body = b.get("/trackedusers")
        _, h_user, user_body = b.get("/user/user007")
        statics = [users_body.decode(), user_body.decode()]
        b.start_nginx(statics)
        print(f"\n{'wrk -t2 -c64, A B A B A B, median of 3':44s} {'module':>10s} {'static':>10s} {'ratio':>7s}"
              f" {'p99 A ms':>9s} {'p99 B ms':>9s}")
        print(f"{'(req/s; static: the same bytes, open_file_cache)':44s}")
        results = {}
        results["users100"] = b.compare(f"GET /trackedusers, 100 users ({len(users_body)} B)", "/trackedusers", "/static0")
        results["user"] = b.compare(f"GET /user/user007 ({len(user_body)} B)", "/user/user007", "/static1")
        etag = h_user.get("ETag") or h_user.get("Etag")
        results["inm"] = b.compare("GET /user/user007, If-None-Match: 304", "/user/user007", "/static1",
                                   headers=[f"If-None-Match: {etag}"])

        # --- 10,000 users, first page of 1,000 ----------------------------------------------
        pages = b.redis("GET", "gist:pages:{user007}")
        fields = ["login", "x", "tracked_since", "2026-11-23T00:00:00Z", "last_scanned_at",
                  "2026-11-23T00:00:00Z", "gist_count", "5", "last_scan", "ok", "failures", "0"]
        seed = []
        for i in range(10000):
            login = f"bulk{i:05d}"
            f = list(fields)
            f[1] = login
            seed.append(["HSET", f"gist:user:{{{login}}}"] + f)
            seed.append(["SET", f"gist:pages:{{{login}}}", pages])
            seed.append(["ZADD", "gist:users", 0, login])
        b.redis_pipe(seed)
        time.sleep(1.2)
        _, _, page_body = b.get("/trackedusers")
        statics.append(page_body.decode())
        b.start_nginx(statics)
        results["users10k"] = b.compare(f"GET /trackedusers, 10,100 users, page 1 ({len(page_body)} B)",
                                        "/trackedusers", "/static2")

        # --- 100,000 users: SLOWLOG and /health under load ------------------------------------
        seed = []
        for i in range(10000, 100000):
            login = f"bulk{i:05d}"
            f = list(fields)
            f[1] = login
            seed.append(["HSET", f"gist:user:{{{login}}}"] + f)
            seed.append(["ZADD", "gist:users", 0, login])
        b.redis_pipe(seed)
        b.redis("SLOWLOG", "RESET")
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            f1 = pool.submit(b.wrk, "/trackedusers?limit=1000&cursor=YnVsazUwMDAw", (), args.duration * 2, 32)
            f2 = pool.submit(b.wrk, "/user/bulk77777", (), args.duration * 2, 32)
            time.sleep(0.5)
            f3 = pool.submit(b.wrk, "/health", (), args.duration, 4)
            health = f3.result()
            f1.result(), f2.result()
        slow = b.redis("SLOWLOG", "GET", "5")
        slowest = max([int(x) for x in re.findall(r"^\d+\)\s+\d+\)\s+\(integer\)\s+(\d+)", slow, re.M)] or [0])
        entries = int(b.redis("SLOWLOG", "LEN"))
        print(f"\n100,100 users, pages and GET /user hammered: SLOWLOG entries over 10 ms: {entries}; "
              f"GET /health p99 {health['p99_ms']:.2f} ms (targets: none, < 5 ms)")

        # --- worker RSS over many reads --------------------------------------------------------
        def rss():
            total = 0
            for pid in b.worker_pids():
                with open(f"/proc/{pid}/status") as f:
                    total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            return total
        b.wrk("/user/user007", (), 2)
        b.wrk("/trackedusers", (), 2)
        r0 = rss()
        done = 0
        while done < args.rss_reads:
            done += b.wrk("/user/user007", (), 5)["requests"]
            done += b.wrk("/trackedusers?limit=100", (), 5)["requests"]
        r1 = rss()
        print(f"worker RSS (both workers) over {done:,} reads after warm-up: {r0} kB -> {r1} kB "
              f"({r1 - r0:+d} kB; target < 1024)")
        print("\nratios: " + ", ".join(f"{k} {v:.2f}" for k, v in results.items()))
    finally:
        b.stop()


if __name__ == "__main__":
    main()
