#!/usr/bin/env python3
"""Measures the WAN matrix for scripts/bench-wan and writes the report.

For each cell (one-way delay per link, random loss per link, the client's
access rate) it brings up `nyxctl testnet up --hosts` in WORK/net, starts the
origins on the origin host (support/origin.py serving the bulk file over HTTP
on 10.77.0.6:8000, `nyxctl bench serve` on 10.77.0.6:8001), and measures two
paths over the same emulated links:

  nyx3  through the client's SOCKS5 port (10.77.0.1:9345): client, 3 hops,
        the exit's kernel TCP to the origin;
  tcp   kernel TCP from the client host to the origin host, routed through
        relay1, relay2 and the exit by `up --hosts`'s /32 routes (the same
        four links), with the congestion control --tcp-cc set on every host.

Per path: one bulk download with support/wan_download.py (goodput = bytes /
(start -> last byte) as curl reports it, and the steady state: the second
half of the bytes over its own time; SHA-256 checked against the origin's
file), `nyxctl bench --mode rr`
(10 streams, 64 B -> 1 KiB, closed loop) unloaded and beside a bulk
download, and the time to first byte of sequential small requests, each on
a new connection (`nyxctl bench --connections-per-request`, from the start
of the TCP connect to the first response byte). Through SOCKS the load tool
sends optimistically by default (`--socks-optimistic`: greeting, CONNECT and
request in one write, as Tor Browser does, Tor proposal 181), so TTFB is one
path round trip plus the origin's connect; `--socks-client waiting` measures
the old client that waits for each reply instead. For nyx3 the row also
keeps the other client's TTFB (`ttfb_waiting_*` or `ttfb_optimistic_*`) and
curl's (`ttfb_curl_*`, which waits for the reply), for comparison. After
`testnet down` the switch's statistics give the cell's emulator verdict.
Writes OUT/wan.json ({"meta": ..., "runs": [row, ...]}), OUT/wan.md and two
plots: OUT/wan_goodput.svg (goodput against loss per link, a line per path
and delay) and OUT/wan_latency.svg (request/response p95 per cell, unloaded
and beside a bulk download, per path); an open marker is a cell where the
emulator fell behind. `--plots-only DIR` redraws the plots from DIR/wan.json.
Standard library only.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from support.svg_plot import PALETTE, write_svg

MIB = 1024 * 1024
ORIGIN = "10.77.0.6"
SOCKS = "10.77.0.1:9345"
HTTP_PORT = 8000
BENCH_PORT = 8001
DEFAULT_DELAYS = [10, 40, 100]
PATHS = ["nyx3", "tcp"]


def log(text):
    print(text, flush=True)


class Cell:
    def __init__(self, args, delay_ms, loss_pct):
        self.args = args
        self.delay_ms = delay_ms
        self.loss_pct = loss_pct
        self.net = os.path.join(args.work, "net")
        self.www = os.path.join(args.work, "www")
        self.background = []

    def nyx(self, *argv, **kwargs):
        return subprocess.run([self.args.nyx, *argv], **kwargs)

    def on(self, host, argv, **kwargs):
        return self.nyx("testnet", "exec", "--dir", self.net, host, "--", *argv, **kwargs)

    def on_background(self, host, argv, out):
        process = subprocess.Popen(
            [self.args.nyx, "testnet", "exec", "--dir", self.net, host, "--", *argv],
            stdout=out, stderr=subprocess.STDOUT)
        self.background.append(process)
        return process

    def up(self):
        argv = ["testnet", "up", "--hosts", "--nodes", "5", "--dir", self.net,
                "--delay", f"{self.delay_ms}ms", "--loss", str(self.loss_pct),
                "--rate", f"{self.args.rate}mbit", "--queue", "50ms"]
        if self.args.congestion:
            argv += ["--congestion", self.args.congestion]
        started = time.monotonic()
        result = self.nyx(*argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("testnet up failed: " + (result.stdout + result.stderr)[-800:])
        self.up_s = time.monotonic() - started
        for host in ("client", "relay1", "relay2", "relay3", "exit", "origin"):
            self.on(host, ["sysctl", "-qw", f"net.ipv4.tcp_congestion_control={self.args.tcp_cc}"],
                    check=True)
        cc = self.on("origin", ["sysctl", "-n", "net.ipv4.tcp_congestion_control"],
                     capture_output=True, text=True)
        self.tcp_cc = cc.stdout.strip()
        origin_log = open(os.path.join(self.args.work, "origin.log"), "ab")
        self.on_background("origin", ["python3", self.args.origin_script, str(HTTP_PORT), self.www,
                                      ORIGIN], origin_log)
        self.on_background("origin", [self.args.nyx, "bench", "serve", "--listen",
                                      f"{ORIGIN}:{BENCH_PORT}", "--max-connections", "4096"],
                           origin_log)
        for _ in range(100):
            probe = self.on("client", ["curl", "-s", "-o", "/dev/null", "--max-time", "5",
                                       f"http://{ORIGIN}:{HTTP_PORT}/small.bin"])
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("the origin did not answer on the origin host")

    def down(self):
        self.nyx("testnet", "down", "--dir", self.net, capture_output=True)
        for process in self.background:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.background = []
        try:
            with open(os.path.join(self.net, "emulator-stats.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    # --- measurements -------------------------------------------------------

    def curl(self, path, name, out, max_time):
        argv = ["curl", "--silent", "--show-error", "-o", out, "--max-time", str(max_time),
                "-w", "%{size_download} %{time_total} %{time_starttransfer} %{time_connect}"]
        if path == "nyx3":
            argv += ["--socks5-hostname", SOCKS]
        argv.append(f"http://{ORIGIN}:{HTTP_PORT}/{name}")
        result = self.on("client", argv, capture_output=True, text=True)
        fields = (result.stdout.split() + ["0"] * 4)[:4]
        size, total, first, _connect = (float(x) for x in fields)
        return result.returncode, size, total, first

    def bulk(self, path):
        # support/wan_download.py: one HTTP download, SHA-256 checked, timed
        # as a whole and over its second half (the steady state, without the
        # start-up that dominates a 20 MiB transfer over a long path).
        argv = ["python3", self.args.download_script, ORIGIN, str(HTTP_PORT), "big.bin",
                "--timeout", str(self.args.bulk_timeout)]
        if path == "nyx3":
            argv += ["--socks", SOCKS]
        result = self.on("client", argv, capture_output=True, text=True)
        try:
            measured = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            measured = {"error": (result.stdout + result.stderr)[-300:]}
        size = measured.get("size", 0)
        return {"goodput_bytes_per_s": measured.get("goodput_bytes_per_s", 0),
                "steady_bytes_per_s": measured.get("steady_bytes_per_s", 0),
                "transfer_bytes": size,
                "bytes_ok": result.returncode == 0 and measured.get("sha256") == self.big_sha,
                "timed_out": "timed out" in measured.get("error", ""),
                "bulk_ttfb_ms": round(measured.get("ttfb_s", 0) * 1000, 1),
                "bulk_s": measured.get("total_s", 0), "bulk_error": measured.get("error")}

    def socks_argv(self, path, optimistic=None):
        if path != "nyx3":
            return []
        if optimistic is None:
            optimistic = self.args.socks_client == "optimistic"
        return ["--socks", SOCKS] + (["--socks-optimistic"] if optimistic else [])

    def rr(self, path, seconds):
        argv = [self.args.nyx, "bench", f"{ORIGIN}:{BENCH_PORT}", "--mode", "rr",
                "--concurrency", "10", "--request-size", "64", "--response-size", "1024",
                "--duration", f"{seconds}s", "--timeout", "30s", "--json", "--quiet"]
        argv += self.socks_argv(path)
        result = self.on("client", argv, capture_output=True, text=True)
        try:
            summary = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None
        return summary

    def rr_with_bulk(self, path, seconds):
        argv = [self.args.nyx, "bench", f"{ORIGIN}:{BENCH_PORT}", "--mode", "bulk",
                "--concurrency", "1", "--response-size", "1GiB",
                "--duration", f"{seconds + self.args.warmup + 2}s", "--timeout", "600s",
                "--json", "--quiet"]
        argv += self.socks_argv(path)
        bulk_log = open(os.path.join(self.args.work, "bulk-neighbour.log"), "wb")
        neighbour = self.on_background("client", argv, bulk_log)
        time.sleep(self.args.warmup)  # past the bulk's slow start
        summary = self.rr(path, seconds)
        try:
            neighbour.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            neighbour.kill()
        self.background.remove(neighbour)
        return summary

    def ttfb(self, path, count, optimistic=None):
        """Sequential 64 B -> 1 KiB requests, a new connection (and SOCKS
        handshake) each: the load tool's summary, or None."""
        argv = [self.args.nyx, "bench", f"{ORIGIN}:{BENCH_PORT}", "--mode", "rr",
                "--concurrency", "1", "--connections-per-request", "--requests", str(count),
                "--request-size", "64", "--response-size", "1024",
                "--duration", f"{count * 30 + 10}s", "--timeout", "30s", "--json", "--quiet"]
        argv += self.socks_argv(path, optimistic)
        result = self.on("client", argv, capture_output=True, text=True)
        try:
            return json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None

    def ttfb_curl(self, path, count):
        samples = []
        errors = 0
        for _ in range(count):
            code, _size, _total, first = self.curl(path, "small.bin", "/dev/null", 30)
            if code == 0:
                samples.append(first * 1000)
            else:
                errors += 1
        return samples, errors

    def ttfb_fields(self, path):
        """TTFB of the configured client, and for nyx3 the other SOCKS client's
        and curl's beside it."""
        row = {}
        summary = self.ttfb(path, self.args.ttfb_count)
        row["ttfb_p50_ms"] = ttfb_of(summary, "p50")
        row["ttfb_p95_ms"] = ttfb_of(summary, "p95")
        row["ttfb_errors"] = summary.get("errors") if summary else None
        row["ttfb_client"] = self.args.socks_client if path == "nyx3" else "tcp"
        if path == "nyx3":
            other = "waiting" if self.args.socks_client == "optimistic" else "optimistic"
            summary = self.ttfb(path, self.args.ttfb_count, optimistic=other == "optimistic")
            row[f"ttfb_{other}_p50_ms"] = ttfb_of(summary, "p50")
            row[f"ttfb_{other}_p95_ms"] = ttfb_of(summary, "p95")
        samples, errors = self.ttfb_curl(path, self.args.ttfb_count)
        row["ttfb_curl_p50_ms"] = round(statistics.median(samples), 1) if samples else None
        row["ttfb_curl_p95_ms"] = round(percentile(samples, 95), 1) if samples else None
        row["ttfb_curl_errors"] = errors
        return row

    def measure(self):
        rows = []
        self.up()
        try:
            for path in PATHS:
                log(f"  {path}: bulk {self.args.size} MiB ...")
                row = {"path": path, "delay_ms": self.delay_ms, "loss_pct": self.loss_pct,
                       "rate_mbit": self.args.rate}
                row.update(self.bulk(path))
                log(f"  {path}: rr unloaded, rr beside a bulk download, TTFB ...")
                unloaded = self.rr(path, self.args.rr_seconds)
                loaded = self.rr_with_bulk(path, self.args.rr_seconds)
                ttfb = self.ttfb_fields(path)
                row["rr_p50_ms"] = latency(unloaded, "p50")
                row["rr_p95_ms"] = latency(unloaded, "p95")
                row["rr_p95_with_bulk_ms"] = latency(loaded, "p95")
                row["emulator_ok"] = None  # filled in after down
                row["variant"] = (self.args.congestion or "default") if path == "nyx3" \
                    else self.tcp_cc
                row["tcp_cc"] = self.tcp_cc
                row["rr_requests"] = unloaded.get("requests") if unloaded else 0
                row["rr_errors"] = unloaded.get("errors") if unloaded else None
                row["rr_with_bulk_errors"] = loaded.get("errors") if loaded else None
                row.update(ttfb)
                row["queue_ms"] = 50
                row["up_s"] = round(self.up_s, 1)
                rows.append(row)
                log("  " + row_line(row))
        finally:
            stats = self.down()
        emulator = summarize_emulator(stats)
        for row in rows:
            row["emulator_ok"] = emulator["ok"]
            row["emulator"] = emulator
        log(f"  emulator: {'ok' if emulator['ok'] else 'BEHIND ' + str(emulator['reasons'])}")
        return rows


def sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def percentile(samples, p):
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ttfb_of(summary, which):
    if not summary or summary.get("requests", 0) == 0:
        return None
    return round(summary["ttfb_ms"][which], 1)


def latency(summary, which):
    if not summary or summary.get("requests", 0) == 0:
        return None
    return round(summary["latency_ms"][which], 2)


def summarize_emulator(stats):
    if not stats:
        return {"ok": False, "reasons": ["no emulator statistics"]}
    late = stats.get("lateness_us", {})
    return {"ok": bool(stats.get("verdict", {}).get("ok")),
            "reasons": stats.get("verdict", {}).get("reasons", []),
            "lateness_p99_us": late.get("p99"), "lateness_max_us": late.get("max"),
            "ring_drops": stats.get("ring_drops"), "tx_errors": stats.get("tx_errors"),
            "cpu_pct": stats.get("cpu_pct"), "forwarded": stats.get("forwarded"),
            "random_drops": stats.get("loss_drops"), "queue_drops": stats.get("queue_drops")}


def fmt_ms(value):
    return "-" if value is None else f"{value:.0f}"


def row_line(row):
    return (f"{row['path']:<5} {row['delay_ms']:>3} ms {row['loss_pct']:>4} %  "
            f"{row['goodput_bytes_per_s'] / 1e6:6.2f} MB/s "
            f"(steady {row['steady_bytes_per_s'] / 1e6:.2f}) "
            f"({'ok' if row['bytes_ok'] else 'NOT byte-exact'}{', timed out' if row['timed_out'] else ''})  "
            f"rr p50 {fmt_ms(row['rr_p50_ms'])} p95 {fmt_ms(row['rr_p95_ms'])} "
            f"p95+bulk {fmt_ms(row['rr_p95_with_bulk_ms'])} ms  ttfb p50 {fmt_ms(row['ttfb_p50_ms'])} ms")


def other_ttfb(row):
    return row.get("ttfb_waiting_p50_ms", row.get("ttfb_optimistic_p50_ms"))


def write_markdown(path, meta, rows):
    rate_bytes = meta["rate_mbit"] * 1e6 / 8
    lines = [
        "# WAN benchmark (scripts/bench-wan)",
        "",
        f"{meta['date']}, commit {meta['commit']}, kernel {meta['kernel']}, {meta['cores']} cores; "
        f"{meta['transfer_mib']} MiB bulk, {meta['rate_mbit']} Mbit/s at the client (queue 50 ms); "
        f"nyx3 congestion: {meta['congestion'] or 'nyxd default'}; TCP baseline: "
        f"{meta['tcp_cc']}, routed client-relay1-relay2-exit-origin over the same links.",
        "",
        f"SOCKS client of the load tool: {meta['socks_client']} (TTFB p50 with the other client "
        "and with curl, which waits for the SOCKS reply, beside it).",
        "",
        "| path | delay/link | loss/link | goodput | % of bottleneck | steady (2nd half) "
        "| byte-exact | rr p50 | rr p95 "
        "| rr p95 with bulk | TTFB p50 | TTFB p50, other client | TTFB p50, curl | emulator |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['path']} ({r['variant']}) | {r['delay_ms']} ms | {r['loss_pct']} % | "
            f"{r['goodput_bytes_per_s'] / 1e6:.2f} MB/s{' (timed out)' if r['timed_out'] else ''} | "
            f"{100 * r['goodput_bytes_per_s'] / rate_bytes:.0f} % | "
            f"{r['steady_bytes_per_s'] / 1e6:.2f} MB/s "
            f"({100 * r['steady_bytes_per_s'] / rate_bytes:.0f} %) | {'yes' if r['bytes_ok'] else 'NO'} | "
            f"{fmt_ms(r['rr_p50_ms'])} ms | {fmt_ms(r['rr_p95_ms'])} ms | "
            f"{fmt_ms(r['rr_p95_with_bulk_ms'])} ms | {fmt_ms(r['ttfb_p50_ms'])} ms | "
            f"{fmt_ms(other_ttfb(r))} ms | {fmt_ms(r.get('ttfb_curl_p50_ms'))} ms | "
            f"{'ok' if r['emulator_ok'] else 'BEHIND'} |")
    lines += ["", "Command: `" + meta["command"] + "`", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write_plots(out, rows):
    write_goodput_plot(os.path.join(out, "wan_goodput.svg"), rows)
    write_latency_plot(os.path.join(out, "wan_latency.svg"), rows)


def doubtful(row):
    """Drawn as an open marker: the emulator fell behind in the row's cell, so
    the figure is not attributable to the path."""
    return not row.get("emulator_ok")


def write_goodput_plot(file, rows):
    """Goodput against loss, a line per path and delay: a colour per delay,
    the TCP baseline dashed beside nyx3."""
    series, styles = {}, {}
    for i, delay in enumerate(sorted({r["delay_ms"] for r in rows})):
        for path in PATHS:
            name = f"{path} {delay} ms"
            series[name] = [(r["loss_pct"], r["goodput_bytes_per_s"] / 1e6, doubtful(r))
                            for r in rows if r["path"] == path and r["delay_ms"] == delay]
            styles[name] = (PALETTE[i % len(PALETTE)], path == "tcp")
    write_svg(file, "Bulk goodput (open marker: emulator behind)", "loss per link (%)",
              "goodput (MB/s)", series, styles=styles)


def write_latency_plot(file, rows):
    """Request/response p95 per cell (x: the cells in order of delay, then loss),
    a colour per path, dashed beside a bulk download."""
    cells = sorted({(r["delay_ms"], r["loss_pct"]) for r in rows})
    index = {cell: i for i, cell in enumerate(cells)}
    series, styles = {}, {}
    # nyx3 green and the baseline blue, as nyx3 and direct in the e2e charts.
    for path, color in zip(PATHS, (PALETTE[2], PALETTE[0])):
        for key, suffix in (("rr_p95_ms", ""), ("rr_p95_with_bulk_ms", " + bulk")):
            series[path + suffix] = [(index[(r["delay_ms"], r["loss_pct"])], r[key], doubtful(r))
                                     for r in rows if r["path"] == path and r[key] is not None]
            styles[path + suffix] = (color, bool(suffix))
    write_svg(file, "Request/response p95 (open marker: emulator behind)",
              "one-way delay per link (ms) / loss per link (%)", "p95 latency (ms)", series,
              styles=styles, x_ticks={i: f"{d:g}/{l:g}" for (d, l), i in index.items()})


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_cells(args):
    if args.cells:
        cells = []
        for item in args.cells.split(","):
            delay, loss = item.split(":")
            cells.append((int(delay), float(loss)))
        return cells
    if args.quick:
        return [(10, 0.0), (40, 0.0)]
    losses = [float(x) for x in args.losses.split(",")]
    return [(d, l) for l in losses for d in DEFAULT_DELAYS]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nyx")
    parser.add_argument("--work")
    parser.add_argument("--origin-script")
    parser.add_argument("--plots-only", metavar="DIR",
                        help="redraw wan_goodput.svg and wan_latency.svg from DIR/wan.json")
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--congestion", default="")
    parser.add_argument("--tcp-cc", default="bbr")
    parser.add_argument("--socks-client", default="optimistic", choices=["optimistic", "waiting"],
                        help="how the load tool speaks SOCKS for rr and TTFB: optimistic (request "
                             "sent with the CONNECT, Tor proposal 181) or waiting (for each reply)")
    parser.add_argument("--cells", default="")
    parser.add_argument("--losses", default="0,1,3")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--size", type=int, default=None, help="bulk transfer, MiB")
    parser.add_argument("--command", default="scripts/bench-wan", help="recorded in meta")
    args = parser.parse_args()
    if args.plots_only:
        with open(os.path.join(args.plots_only, "wan.json")) as f:
            write_plots(args.plots_only, json.load(f)["runs"])
        return 0
    # What a measuring run needs; --plots-only reads only DIR/wan.json.
    missing = [f"--{n.replace('_', '-')}" for n in ("nyx", "work", "origin_script")
               if getattr(args, n) is None]
    if missing:
        parser.error(f"the arguments {', '.join(missing)} are required without --plots-only")
    if args.congestion and args.congestion not in ("newreno", "bbr"):
        parser.error("--congestion: newreno or bbr")
    args.size = args.size or (2 if args.quick else 20)
    args.bulk_timeout = 30 if args.quick else 120
    args.rr_seconds = 3 if args.quick else 20
    args.warmup = 2 if args.quick else 4
    args.ttfb_count = 5 if args.quick else 20
    args.origin_script = os.path.abspath(args.origin_script)
    args.download_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support",
                                        "wan_download.py")
    if args.rate == int(args.rate):
        args.rate = int(args.rate)

    www = os.path.join(args.work, "www")
    os.makedirs(www, exist_ok=True)
    big = os.path.join(www, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(args.size * MIB))
    with open(os.path.join(www, "small.bin"), "wb") as f:
        f.write(os.urandom(1024))
    Cell.big_sha = sha256(big)

    load_before = os.getloadavg()
    rows = []
    for delay, loss in parse_cells(args):
        log(f"cell: {delay} ms one way, {loss} % loss per link, {args.rate} Mbit/s at the client")
        cell = Cell(args, delay, loss)
        try:
            rows += cell.measure()
        except (RuntimeError, subprocess.CalledProcessError) as e:
            log(f"  cell failed: {e}")
            cell.down()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(), "kernel": platform.release(), "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "transfer_mib": args.size, "rate_mbit": args.rate, "queue_ms": 50,
        "congestion": args.congestion, "tcp_cc": args.tcp_cc, "quick": args.quick,
        "socks_client": args.socks_client,
        "command": args.command,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "wan.json"), "w") as f:
        json.dump({"meta": meta, "runs": rows}, f, indent=2)
        f.write("\n")
    write_markdown(os.path.join(args.out, "wan.md"), meta, rows)
    write_plots(args.out, rows)
    log(f"wrote {args.out}/wan.json, wan.md, wan_goodput.svg and wan_latency.svg "
        f"({len(rows)} rows)")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
