#!/usr/bin/env python3
"""Rescan benchmark (issue 5): N tracked users, one NGINX instance, a short rescan interval.

Starts redis-server, the fast stub GitHub (bench/github_stub.py) and nginx with the module, all on
127.0.0.1 in a temporary directory; tracks N users with POST /user/{login} (high concurrency); then
counts, at the stub, every GitHub request over `--intervals` whole intervals that start one interval
after the seeding (by then every user's first due time has passed). Prints:

  * GitHub requests per user per interval (ideal: 1), users by number of rescans in the window, and
    the period between two rescans of a user (ideal: the interval)
  * the share of 304s (expected: 1 - change_pct/100; 304s are free on GitHub)
  * how evenly the rescans spread over time: requests per second and per tenth of the interval,
    coefficient of variation (CV) against the CV of a Poisson process of the same rate (the "ideal"
    spread at this rate), the share of near-empty seconds; an ASCII histogram. Per second, the
    workers' once-a-second claim bursts alias against second boundaries (0 or 2 bursts in a second);
    per tenth of the interval shows the spread over the interval itself.
  * Redis memory per tracked user: MEMORY USAGE of a sample of user hashes (averaged), each user's
    share of the users / rescan sorted sets and of the seen hash, and the INFO used_memory delta
  * nginx worker CPU per rescan and Redis CPU per rescan, /health at the end

Bounded: it gives up after --deadline seconds (default 280). Python 3 stdlib only.
"""

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
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


def redis_cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), "--no-raw", *map(str, args)],
                         capture_output=True, text=True, check=True).stdout
    return out


def redis_raw(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)],
                          capture_output=True, text=True, check=True).stdout.strip()


def redis_info(port, section):
    d = {}
    for line in redis_raw(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            d[k] = v.strip()
    return d


def http_get(port, path, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.read()


def proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return 0.0
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(master):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if ppid == master:
                pids.append(int(d))
        except (OSError, ValueError):
            pass
    return pids


async def seed(port, logins, concurrency):
    """POST /user/{login} for every login over `concurrency` keep-alive connections."""
    queue = list(reversed(logins))
    statuses = {}

    async def conn():
        reader = writer = None
        while queue:
            login = queue.pop()
            for attempt in range(3):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(f"POST /user/{login} HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n".encode())
                    await writer.drain()
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    status = int(lines[0].split(" ")[1])
                    length = 0
                    close = False
                    for line in lines[1:]:
                        k, _, v = line.partition(":")
                        if k.lower() == "content-length":
                            length = int(v.strip())
                        if k.lower() == "connection" and v.strip().lower() == "close":
                            close = True
                    if length:
                        await reader.readexactly(length)
                    statuses[status] = statuses.get(status, 0) + 1
                    if close:
                        writer.close()
                        writer = None
                    break
                except (OSError, asyncio.IncompleteReadError):
                    if writer is not None:
                        writer.close()
                    writer = None
            else:
                statuses["error"] = statuses.get("error", 0) + 1
        if writer is not None:
            writer.close()

    await asyncio.gather(*(conn() for _ in range(concurrency)))
    return statuses


NGINX_CONF = """
daemon on;
master_process on;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
load_module {module};
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    gist_redis 127.0.0.1:{redis_port};
    gist_redis_prefix "gist:";
    gist_github_api_url http://127.0.0.1:{stub_port};
    gist_upstream_timeout 5s;
    gist_rescan_interval {interval}s;
    gist_rescan_concurrency {concurrency};
    gist_github_rate_reserve 100;
    server {{
        listen 127.0.0.1:{port};
        location /user/          {{ gist_user; }}
        location = /trackedusers {{ gist_tracked_users; }}
        location = /health       {{ gist_health; }}
    }}
}}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="path to ngx_http_gist_module.so")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--interval", type=int, default=20, help="gist_rescan_interval, seconds")
    ap.add_argument("--intervals", type=int, default=2, help="whole intervals measured")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=4, help="gist_rescan_concurrency")
    ap.add_argument("--seed-concurrency", type=int, default=64)
    ap.add_argument("--gists", type=int, default=3, help="gists per user at the stub")
    ap.add_argument("--change-pct", type=float, default=1.0, help="%% of users with a new gist every interval")
    ap.add_argument("--sample", type=int, default=200, help="user hashes sampled for MEMORY USAGE")
    ap.add_argument("--deadline", type=int, default=280, help="give up after this many seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--dump", help="also write the stub's request log (time login status) to this file")
    a = ap.parse_args()

    started = time.time()
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("deadline")))
    signal.alarm(a.deadline)

    tmp = tempfile.mkdtemp(prefix="rescan-bench-")
    os.chmod(tmp, 0o755)
    os.makedirs(f"{tmp}/tmp", exist_ok=True)
    os.chmod(f"{tmp}/tmp", 0o777)
    redis_port, stub_port, port = free_port(), free_port(), free_port()
    procs = []
    nginx_conf = f"{tmp}/nginx.conf"
    nginx_up = False
    fig = {"users": a.users, "interval_s": a.interval, "intervals": a.intervals, "workers": a.workers,
           "rescan_concurrency": a.concurrency, "gists_per_user": a.gists, "change_pct": a.change_pct}
    try:
        procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", tmp,
                                       "--logfile", f"{tmp}/redis.log"]))
        procs.append(subprocess.Popen([sys.executable, f"{HERE}/github_stub.py", "--port", str(stub_port),
                                       "--gists", str(a.gists), "--change-pct", str(a.change_pct),
                                       "--change-every", str(a.interval)]))
        if not wait_port(redis_port) or not wait_port(stub_port):
            raise RuntimeError("redis-server or the stub did not start")
        with open(nginx_conf, "w") as f:
            f.write(NGINX_CONF.format(workers=a.workers, dir=tmp, module=os.path.abspath(a.module),
                                      redis_port=redis_port, stub_port=stub_port, interval=a.interval,
                                      concurrency=a.concurrency, port=port))
        subprocess.run(["nginx", "-p", tmp + "/", "-c", nginx_conf], check=True)
        nginx_up = True
        if not wait_port(port):
            raise RuntimeError("nginx did not start")
        time.sleep(0.5)
        mem0 = int(redis_info(redis_port, "memory")["used_memory"])

        # --- seed ------------------------------------------------------------------------------
        logins = [f"bench{i:05d}" for i in range(a.users)]
        t_seed = time.time()
        statuses = asyncio.run(seed(port, logins, a.seed_concurrency))
        t_seeded = time.time()
        fig["seed"] = {"seconds": round(t_seeded - t_seed, 2), "statuses": {str(k): v for k, v in statuses.items()},
                       "posts_per_s": round(a.users / (t_seeded - t_seed), 1)}
        print(f"seeded {a.users} users in {t_seeded - t_seed:.1f} s "
              f"({a.users / (t_seeded - t_seed):.0f} POST/s): {statuses}", flush=True)
        # Where the first due times fell (tenths of the interval after the end of the seeding; read at
        # once, before rescans move them).
        zs = redis_raw(redis_port, "ZRANGE", "gist:rescan", 0, -1, "WITHSCORES").split("\n")
        dues = [float(x) / 1000 for x in zs[1::2] if x]
        tenths = [0] * 10
        for d in dues:
            k = int(10 * (d - t_seeded) / a.interval)
            tenths[min(max(k, 0), 9)] += 1
        fig["first_due_by_tenth_of_interval"] = tenths
        tracked = int(redis_raw(redis_port, "ZCARD", "gist:users"))
        scheduled = int(redis_raw(redis_port, "ZCARD", "gist:rescan"))
        mem1 = int(redis_info(redis_port, "memory")["used_memory"])

        # --- memory per tracked user -----------------------------------------------------------
        step = max(1, a.users // a.sample)
        sample = logins[::step][:a.sample]
        hash_bytes = [int(redis_raw(redis_port, "MEMORY", "USAGE", f"gist:user:{{{l}}}", "SAMPLES", "0") or 0) for l in sample]
        zs_users = int(redis_raw(redis_port, "MEMORY", "USAGE", "gist:users", "SAMPLES", "0") or 0)
        zs_rescan = int(redis_raw(redis_port, "MEMORY", "USAGE", "gist:rescan", "SAMPLES", "0") or 0)
        seen = int(redis_raw(redis_port, "MEMORY", "USAGE", "gist:seen", "SAMPLES", "0") or 0)
        n = max(tracked, 1)
        mem = {
            "user_hash_avg": round(statistics.mean(hash_bytes), 1),
            "user_hash_min": min(hash_bytes), "user_hash_max": max(hash_bytes),
            "users_zset_share": round(zs_users / n, 1),
            "rescan_zset_share": round(zs_rescan / n, 1),
            "seen_hash_share": round(seen / n, 1),
            "info_used_memory_delta_per_user": round((mem1 - mem0) / n, 1),
        }
        mem["total_by_keys_per_user"] = round(mem["user_hash_avg"] + mem["users_zset_share"]
                                              + mem["rescan_zset_share"] + mem["seen_hash_share"], 1)
        fig["redis_memory_bytes_per_user"] = mem
        fig["tracked"] = tracked
        fig["scheduled"] = scheduled

        # --- measure ---------------------------------------------------------------------------
        w0 = t_seeded + a.interval
        w1 = w0 + a.interval * a.intervals
        master = int(open(f"{tmp}/nginx.pid").read().strip())
        workers = worker_pids(master)
        while time.time() < w0:
            time.sleep(0.05)
        cpu0 = sum(proc_cpu_seconds(p) for p in workers)
        scpu0 = proc_cpu_seconds(procs[1].pid)
        rcpu0 = redis_info(redis_port, "cpu")
        while time.time() < w1:
            time.sleep(0.05)
        cpu1 = sum(proc_cpu_seconds(p) for p in workers)
        scpu1 = proc_cpu_seconds(procs[1].pid)
        rcpu1 = redis_info(redis_port, "cpu")
        time.sleep(0.5)
        log = []
        for line in http_get(stub_port, f"/_log?since={t_seed - 1}", timeout=30).decode().splitlines():
            t, login, st = line.split()
            log.append((float(t), login, int(st)))
        win = [r for r in log if w0 <= r[0] < w1]
        if a.dump:
            with open(a.dump, "w") as f:
                f.write(f"# seeded {t_seeded:.3f} window {w0:.3f} {w1:.3f}\n")
                f.writelines(f"{t:.3f} {l} {st}\n" for t, l, st in log)
        health = json.loads(http_get(port, "/health"))

        per_user = {}
        for _, login, _ in win:
            per_user[login] = per_user.get(login, 0) + 1
        total = len(win)
        rpui = total / (n * a.intervals)
        # Users by the number of rescans in the window (ideal: all at `intervals`).
        dist = {}
        for l in logins:
            c = per_user.get(l, 0)
            dist[str(c)] = dist.get(str(c), 0) + 1
        dist = dict(sorted(dist.items(), key=lambda kv: int(kv[0])))
        # The period between two rescans of a user (after the POST's fetch and the first rescan).
        by_user = {}
        for t, login, _ in log:
            by_user.setdefault(login, []).append(t)
        gaps = []
        for ts in by_user.values():
            ts.sort()
            gaps += [ts[i] - ts[i - 1] for i in range(2, len(ts))]
        gaps.sort()
        fig["period"] = {
            "samples": len(gaps),
            "mean_over_interval": round(statistics.mean(gaps) / a.interval, 4) if gaps else None,
            "p50_over_interval": round(gaps[len(gaps) // 2] / a.interval, 4) if gaps else None,
            "p99_over_interval": round(gaps[int(len(gaps) * 0.99)] / a.interval, 4) if gaps else None,
            "min_s": round(gaps[0], 3) if gaps else None, "max_s": round(gaps[-1], 3) if gaps else None,
        }
        n304 = sum(1 for r in win if r[2] == 304)
        seconds = int(w1 - w0)
        buckets = [0] * seconds
        for t, _, _ in win:
            i = int(t - w0)
            if 0 <= i < seconds:
                buckets[i] += 1
        mean = statistics.mean(buckets)
        sd = statistics.pstdev(buckets)
        cv = sd / mean if mean else float("inf")
        poisson_cv = 1 / math.sqrt(mean) if mean else float("inf")
        empty = sum(1 for b in buckets if b < 0.1 * mean)
        # The same at a tenth of the interval: the spread over the interval, without the aliasing of
        # the workers' once-a-second claim bursts against second boundaries.
        tenth = a.interval / 10
        coarse = [0] * (10 * a.intervals)
        for t, _, _ in win:
            i = int((t - w0) / tenth)
            if 0 <= i < len(coarse):
                coarse[i] += 1
        cmean = statistics.mean(coarse)
        ccv = statistics.pstdev(coarse) / cmean if cmean else float("inf")
        cpoisson = 1 / math.sqrt(cmean) if cmean else float("inf")
        fig["requests"] = {
            "window_s": seconds, "total": total, "per_user_per_interval": round(rpui, 4),
            "ratio_to_ideal_1": round(rpui, 4),
            "users_by_rescans_in_window": dist,
            "share_304": round(n304 / total, 4) if total else None,
            "expected_share_304": round(1 - a.change_pct / 100, 4),
            "non_304_per_interval": round((total - n304) / a.intervals, 1),
            "seed_phase_requests": sum(1 for r in log if r[0] < t_seeded + 0.5),
        }
        fig["spread"] = {
            "per_second_mean": round(mean, 1), "per_second_min": min(buckets), "per_second_max": max(buckets),
            "cv": round(cv, 3), "poisson_cv_same_rate": round(poisson_cv, 3),
            "cv_ratio_to_poisson": round(cv / poisson_cv, 2) if poisson_cv else None,
            "seconds_below_10pct_of_mean": empty,
            "per_second": buckets,
            "per_tenth_of_interval": coarse,
            "tenth_cv": round(ccv, 3), "tenth_poisson_cv_same_rate": round(cpoisson, 3),
            "tenth_cv_ratio_to_poisson": round(ccv / cpoisson, 2) if cpoisson else None,
        }
        cpu = cpu1 - cpu0
        rcpu = (float(rcpu1["used_cpu_sys"]) + float(rcpu1["used_cpu_user"])
                - float(rcpu0["used_cpu_sys"]) - float(rcpu0["used_cpu_user"]))
        fig["cpu"] = {"nginx_workers_ms_per_rescan": round(1000 * cpu / total, 3) if total else None,
                      "redis_ms_per_rescan": round(1000 * rcpu / total, 3) if total else None,
                      "nginx_workers_cpu_share": round(cpu / (w1 - w0), 3),
                      "stub_cpu_share": round((scpu1 - scpu0) / (w1 - w0), 3)}
        fig["health_end"] = {k: health.get(k) for k in ("rescan", "github")}
        with open(f"{tmp}/error.log") as f:
            errlog = f.read().splitlines()
        fig["error_log"] = {"alert_crit_emerg": sum(1 for l in errlog if any(x in l for x in ("[alert]", "[crit]", "[emerg]"))),
                            "warn_error": sum(1 for l in errlog if "[warn]" in l or "[error]" in l)}

        # --- report ----------------------------------------------------------------------------
        print()
        print(f"rescan benchmark: {tracked} tracked users ({scheduled} scheduled), interval {a.interval} s, "
              f"{a.workers} workers x concurrency {a.concurrency}, {a.gists} gists/user, "
              f"{a.change_pct:g}% users change per interval")
        print(f"window: {a.intervals} intervals ({seconds} s) starting one interval after seeding")
        r = fig["requests"]
        print(f"  GitHub requests per user per interval: {r['per_user_per_interval']:.3f}  (ideal 1; ratio {r['ratio_to_ideal_1']:.3f})")
        print(f"  users by number of rescans in the {a.intervals} intervals: {dist}")
        pr = fig["period"]
        print(f"  period between a user's rescans / interval: mean {pr['mean_over_interval']}, p50 {pr['p50_over_interval']}, "
              f"p99 {pr['p99_over_interval']} (min {pr['min_s']} s, max {pr['max_s']} s, {pr['samples']} periods)")
        print(f"  share of 304: {r['share_304']:.4f}  (expected {r['expected_share_304']:.4f}); "
              f"budget-costing (non-304) requests per interval: {r['non_304_per_interval']}")
        s = fig["spread"]
        print(f"  spread: {s['per_second_mean']} req/s mean, min {s['per_second_min']}, max {s['per_second_max']}, "
              f"CV {s['cv']} vs Poisson {s['poisson_cv_same_rate']} (ratio {s['cv_ratio_to_poisson']}), "
              f"{s['seconds_below_10pct_of_mean']} of {seconds} s below 10% of the mean")
        print(f"  per tenth of the interval ({tenth:g} s): {coarse}; CV {s['tenth_cv']} vs Poisson "
              f"{s['tenth_poisson_cv_same_rate']} (ratio {s['tenth_cv_ratio_to_poisson']})")
        print(f"  first due times after seeding, by tenth of the interval: {fig['first_due_by_tenth_of_interval']}")
        peak = max(buckets) or 1
        for i in range(0, seconds):
            print(f"    {i:3d}s {buckets[i]:5d} " + "#" * int(50 * buckets[i] / peak))
        print(f"  Redis memory per tracked user: user hash {mem['user_hash_avg']} B (MEMORY USAGE, {len(sample)} sampled, "
              f"{mem['user_hash_min']}..{mem['user_hash_max']}), users zset {mem['users_zset_share']} B, "
              f"rescan zset {mem['rescan_zset_share']} B, seen hash {mem['seen_hash_share']} B ({a.gists} gists); "
              f"sum {mem['total_by_keys_per_user']} B; INFO used_memory delta {mem['info_used_memory_delta_per_user']} B")
        c = fig["cpu"]
        print(f"  CPU per rescan: nginx workers {c['nginx_workers_ms_per_rescan']} ms, redis {c['redis_ms_per_rescan']} ms; "
              f"workers busy {100 * c['nginx_workers_cpu_share']:.1f}% of one core, the stub {100 * c['stub_cpu_share']:.1f}%")
        print(f"  /health at the end: {json.dumps(fig['health_end'])}")
        print(f"  error.log: {fig['error_log']}")
        print(f"  took {time.time() - started:.0f} s")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(fig, f, indent=1)
        ok = abs(rpui - 1) < 0.1 and "0" not in dist
        return 0 if ok else 1
    finally:
        signal.alarm(0)
        if nginx_up:
            subprocess.run(["nginx", "-p", tmp + "/", "-c", nginx_conf, "-s", "quit"], capture_output=True)
            for _ in range(50):
                if not os.path.exists(f"{tmp}/nginx.pid"):
                    break
                time.sleep(0.1)
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
