#!/usr/bin/env python3
"""Measures the end-to-end scenarios for scripts/bench-e2e and writes the report.

Runs `nyxctl bench --json` for each path (direct, plain_proxy, nyx3) and scenario,
samples every process's VmRSS every 100 ms during each run (keeping the max:
VmHWM would cover the process's whole life), times circuit.build over the
node's control socket, and writes OUT/e2e.json ({"runs": [...]}), OUT/e2e.md
and SVG line charts. The processes themselves are started by scripts/bench-e2e.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

from support.svg_plot import write_svg

KIB = 1024
MIB = 1024 * 1024


def read_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples each process's VmRSS every 100 ms on a thread; keeps the max."""

    def __init__(self, processes):
        self.processes = processes  # name -> pid
        self.peak = {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while True:
            for name, pid in self.processes.items():
                rss = read_rss_kb(pid)
                if rss is not None:
                    self.peak[name] = max(self.peak.get(name, 0), rss)
            if self.stop_event.wait(0.1):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()


def run_bench(args, path_args, extra, timeout_s):
    """One `nyxctl bench --json` run; returns (fields, per-second rates, error)."""
    command = [args.nyx, "bench", args.origin, "--json"] + path_args + extra
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None, [], f"nyxctl bench did not finish within {timeout_s} s (hung)"
    rates = []
    for line in done.stderr.splitlines():
        # "[  1.0 s]    15579 req/s  0 errors  p50 0.328 ms"
        if line.startswith("[") and "req/s" in line:
            rates.append(float(line.split("]")[1].split()[0]))
    try:
        fields = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        return None, rates, f"nyxctl bench exited {done.returncode}: {tail}"
    error = None
    if fields["requests"] == 0:
        kinds = ", ".join(f"{n} {k}" for k, n in fields.get("errors_by_kind", {}).items() if n)
        error = f"no request completed ({fields['errors']} errors: {kinds or 'none'})"
    return fields, rates, error


def control_call(sock_file, request):
    sock_file.write((json.dumps(request) + "\n").encode())
    sock_file.flush()
    return json.loads(sock_file.readline())


def circuit_setup(data_dir, count):
    """Builds `count` circuits one after another with circuit.build on the client's
    control socket and reads each one's `setup_ms` (CREATE sent to CREATED
    received, timed by the node) from circuits.list; closes each after."""
    with open(os.path.join(data_dir, "control.cookie"), "rb") as cookie_file:
        cookie = cookie_file.read().hex()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(10)
    conn.connect(os.path.join(data_dir, "control.sock"))
    stream = conn.makefile("rwb")
    ids = iter(range(1, 1 << 30))

    def call(method, params=None):
        request = {"jsonrpc": "2.0", "id": next(ids), "method": method}
        if params is not None:
            request["params"] = params
        answer = control_call(stream, request)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error'].get('message')}")
        return answer["result"]

    call("auth", {"cookie": cookie})
    times_ms = []
    for _ in range(count):
        circuit = call("circuit.build")["id"]
        deadline = time.monotonic() + 10
        while True:
            entry = next((c for c in call("circuits.list")["circuits"] if c["id"] == circuit),
                         None)
            if entry is None or entry["state"] == "closed":
                raise RuntimeError(f"circuit {circuit} closed before it opened")
            if "setup_ms" in entry:
                times_ms.append(entry["setup_ms"])
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"circuit {circuit} not open after 10 s")
            time.sleep(0.001)
        call("circuit.close", {"id": circuit})
    conn.close()
    times_ms.sort()
    pick = lambda q: times_ms[min(len(times_ms) - 1, int(q * len(times_ms)))]
    return {"requests": count, "errors": 0, "latency_ms": {
        "p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": times_ms[-1]}}


def scenarios(quick):
    seconds = "2s" if quick else "10s"
    rr = ["--request-size", "64", "--response-size", "1024", "--duration", seconds]
    # Idle first: RSS only grows (allocators keep what they freed), so idle
    # cost is measured before any load has grown the processes.
    idle = 100 if quick else 1000
    out = [("idle", idle, ["--mode", "idle", "-c", str(idle), "--response-size", "16",
                           "--duration", "3s" if quick else "10s"])]
    for concurrency in [1, 10, 100, 1000]:
        out.append(("rr", concurrency, rr + ["-c", str(concurrency)]))
    out.append(("stream_open", 1, ["--request-size", "16", "--response-size", "1",
                                   "--connections-per-request", "--duration", seconds]))
    sizes = [1 * MIB, 16 * MIB, 64 * MIB] if quick else [1 * MIB, 100 * MIB, 1024 * MIB]
    for size in sizes:
        name = f"bulk_{size // MIB}MiB"
        out.append((name, 1, ["--mode", "bulk", "--response-size", str(size), "--requests", "1",
                              "--duration", "600s", "--timeout", "300s"]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--nyx")
    parser.add_argument("--origin")
    parser.add_argument("--proxy")
    parser.add_argument("--origin-pid", type=int)
    parser.add_argument("--proxy-pid", type=int)
    parser.add_argument("--testnet")
    parser.add_argument("--testnet-error", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite e2e.md and the plots from OUT/e2e.json")
    args = parser.parse_args()
    # What a measuring run needs; --report-only reads only OUT/e2e.json.
    needed = ["nyx", "origin", "proxy", "origin_pid", "proxy_pid", "testnet"]
    missing = [f"--{n.replace('_', '-')}" for n in needed if getattr(args, n) is None]
    if missing and not args.report_only:
        parser.error(f"the arguments {', '.join(missing)} are required without --report-only")
    if args.report_only:
        with open(os.path.join(args.out, "e2e.json")) as f:
            write_report(json.load(f), args.out)
        return

    processes = {"origin": args.origin_pid, "plain_proxy": args.proxy_pid}
    paths = {"direct": [], "plain_proxy": ["--socks", args.proxy]}
    nyx3_error = args.testnet_error or None
    client_data = None
    if not nyx3_error:
        try:
            with open(os.path.join(args.testnet, "testnet.json")) as f:
                state = json.load(f)
            for node in state["nodes"]:
                processes[node["name"]] = node["pid"]
                if node.get("socks_port"):
                    paths["nyx3"] = ["--socks", f"127.0.0.1:{node['socks_port']}"]
                    client_data = os.path.join(args.testnet, node["name"], "data")
        except (OSError, ValueError, KeyError) as e:
            nyx3_error = f"cannot read the testnet state: {e}"
    if not nyx3_error:
        # One request first: a path that carries nothing fails once, clearly,
        # instead of timing out in every scenario.
        fields, _, error = run_bench(args, paths["nyx3"], ["--requests", "1", "--timeout", "10s",
                                                           "--duration", "15s", "-q"], 60)
        if error:
            nyx3_error = f"nyx3 path carries no traffic: {error}"
    if nyx3_error:
        print(f"bench-e2e: {nyx3_error}", flush=True)

    runs = []
    timeout_s = 1200

    def record(path, scenario, concurrency, extra, fields, rates, error, sampler):
        entry = {"path": path, "scenario": scenario, "concurrency": concurrency}
        entry.update(fields or {})
        entry["peak_rss_kb"] = dict(sampler.peak) if sampler else {}
        if rates and scenario.startswith("overload"):
            entry["requests_per_s_each_second"] = rates
        if error:
            entry["error"] = error
        runs.append(entry)
        shown = error or (f"{fields['requests_per_s']:.0f} req/s, p95 "
                          f"{fields['latency_ms']['p95']:.3f} ms, "
                          f"{fields['bytes_per_s'] / 1e6:.1f} MB/s, {fields['errors']} errors")
        print(f"{path:12} {scenario:18} c={concurrency:<5} {shown}", flush=True)

    for scenario, concurrency, extra in scenarios(args.quick):
        for path in ["direct", "plain_proxy", "nyx3"]:
            if path == "nyx3" and nyx3_error:
                record(path, scenario, concurrency, extra, None, [], nyx3_error, None)
                continue
            idle_base = {name: read_rss_kb(pid) or 0 for name, pid in processes.items()}
            with RssSampler(processes) as sampler:
                fields, rates, error = run_bench(args, paths[path], extra + ["-q"], timeout_s)
            if scenario == "idle" and fields:
                fields["idle_kb_per_stream"] = {
                    name: round((sampler.peak.get(name, 0) - idle_base[name]) / concurrency, 2)
                    for name in processes}
            record(path, scenario, concurrency, extra, fields, rates, error, sampler)

    # Circuit setup, on the client's control API: measured whenever the
    # network is up, even when streams do not get through it.
    if client_data is None:
        record("nyx3", "circuit_setup", 1, [], None, [], nyx3_error, None)
    else:
        with RssSampler(processes) as sampler:
            try:
                fields, error = circuit_setup(client_data, 5 if args.quick else 50), None
            except (OSError, RuntimeError, ValueError, KeyError) as e:
                fields, error = None, f"circuit.build: {e}"
        if fields:
            fields.update({"requests_per_s": 0, "bytes_per_s": 0,
                           "ttfb_ms": {"p50": 0, "p95": 0}})
        record("nyx3", "circuit_setup", 1, [], fields, [], error, sampler)

    # Overload: open loop at twice the capacity measured at concurrency 100,
    # then at half of it; per-second rates show the recovery.
    phase = "3s" if args.quick else "30s"
    for path in ["direct", "plain_proxy", "nyx3"]:
        capacity = next((r.get("requests_per_s", 0) for r in runs
                         if r["path"] == path and r["scenario"] == "rr"
                         and r["concurrency"] == 100 and "error" not in r), 0)
        for scenario, factor in [("overload_2x", 2.0), ("overload_then_half", 0.5)]:
            if not capacity:
                record(path, scenario, 1000, [], None, [],
                       nyx3_error if path == "nyx3" and nyx3_error
                       else "no capacity measured at concurrency 100", None)
                continue
            extra = ["--request-size", "64", "--response-size", "1024", "-c", "1000",
                     "--rate", str(round(capacity * factor)), "--duration", phase,
                     "--timeout", "5s"]
            with RssSampler(processes) as sampler:
                fields, rates, error = run_bench(args, paths[path], extra, timeout_s)
            record(path, scenario, 1000, extra, fields, rates, error, sampler)

    os.makedirs(args.out, exist_ok=True)
    result = {"quick": args.quick, "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
              "runs": runs}
    with open(os.path.join(args.out, "e2e.json"), "w") as f:
        json.dump(result, f, indent=1)
    write_report(result, args.out)
    # A scenario that completed nothing on some path fails the run (CI relies on it).
    failed = [f"{r['path']} {r['scenario']}" for r in runs if "error" in r]
    if failed:
        print(f"bench-e2e: failed: {', '.join(failed)}", flush=True)
        sys.exit(1)


def on_path(path, per_process):
    """The processes a path goes through: the origin for direct, the proxy for
    plain_proxy, the nodes for nyx3 (the origin serves every path alike)."""
    wanted = {"direct": lambda n: n == "origin", "plain_proxy": lambda n: n == "plain_proxy",
              "nyx3": lambda n: n.startswith("node")}[path]
    return {name: value for name, value in per_process.items() if wanted(name)}


def write_report(result, out):
    lines = [f"End-to-end runs, {result['date_utc']} UTC"
             + (" (--quick: short runs, small sizes)" if result.get("quick") else ""), "",
             "| path | scenario | conc. | req/s | p50 ms | p95 ms | p99 ms | max ms | TTFB p50 ms "
             "| MB/s | errors | peak RSS MiB (largest process on the path) | note |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in result["runs"]:
        if "requests" not in r:
            lines.append(f"| {r['path']} | {r['scenario']} | {r['concurrency']} "
                         f"| | | | | | | | | | **failed:** {r.get('error', '')} |")
            continue
        lat, ttfb = r["latency_ms"], r.get("ttfb_ms", {})
        rss = on_path(r["path"], r.get("peak_rss_kb", {}))
        top = max(rss.items(), key=lambda kv: kv[1]) if rss else ("", 0)
        note = r.get("error", "")
        idle = on_path(r["path"], r.get("idle_kb_per_stream", {}))
        if idle:
            worst = max(idle.items(), key=lambda kv: kv[1])
            note = f"idle: {worst[1]} KiB/stream ({worst[0]})"
        lines.append(
            f"| {r['path']} | {r['scenario']} | {r['concurrency']} | {r['requests_per_s']:.0f} "
            f"| {lat['p50']:.3f} | {lat['p95']:.3f} | {lat['p99']:.3f} | {lat['max']:.3f} "
            f"| {ttfb.get('p50', 0):.3f} | {r['bytes_per_s'] / 1e6:.1f} | {r['errors']} "
            f"| {top[1] / 1024:.1f} ({top[0]}) | {note} |")
    with open(os.path.join(out, "e2e.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    rr = [r for r in result["runs"] if r["scenario"] == "rr" and "requests" in r]
    # Every chart lists the paths in this order: each keeps its colour.
    by_path = lambda rows, key: {
        p: [(r["concurrency"], key(r)) for r in rows if r["path"] == p]
        for p in ["direct", "plain_proxy", "nyx3"]}
    write_svg(os.path.join(out, "e2e_latency.svg"), "Request/response p95 latency",
              "concurrency (streams)", "p95 latency (ms)",
              by_path(rr, lambda r: r["latency_ms"]["p95"]), log_x=True)
    write_svg(os.path.join(out, "e2e_requests.svg"), "Request/response throughput",
              "concurrency (streams)", "requests/s", by_path(rr, lambda r: r["requests_per_s"]),
              log_x=True)
    bulk = [dict(r, concurrency=int(r["scenario"].split("_")[1][:-3]))
            for r in result["runs"] if r["scenario"].startswith("bulk_") and "requests" in r]
    write_svg(os.path.join(out, "e2e_throughput.svg"), "Bulk download goodput",
              "download size (MiB)", "MB/s", by_path(bulk, lambda r: r["bytes_per_s"] / 1e6),
              log_x=True)


if __name__ == "__main__":
    main()
