#!/usr/bin/env python3
"""One HTTP download for scripts/bench-wan, timed byte by byte.

    wan_download.py HOST PORT PATH [--socks HOST:PORT] [--timeout S]

Fetches http://HOST:PORT/PATH (HTTP/1.0, the body until Content-Length),
directly or through a SOCKS5 proxy (CONNECT by name, as curl's
--socks5-hostname), and prints one JSON line:

  size, sha256          the body, for the byte-exact check
  total_s, ttfb_s       from the start of the connect to the last / first byte
  goodput_bytes_per_s   size / total_s, what curl reports
  steady_bytes_per_s    the second half of the body over the time it took

The steady figure is the one to hold against a bottleneck rate: over paths
with a round trip of 240-800 ms, a 20 MiB transfer spends seconds in slow
start (in any controller that probes for bandwidth, the kernel's TCP
included), so the whole-transfer average measures the start-up as much as
the steady state. Exit code 0 when the whole body arrived, 1 otherwise
(the JSON line is printed either way). Standard library only.
"""
import argparse
import hashlib
import json
import socket
import struct
import sys
import time


def socks5_connect(sock, host, port):
    sock.sendall(b"\x05\x01\x00")
    if recv_exact(sock, 2) != b"\x05\x00":
        raise OSError("SOCKS5: no acceptable authentication method")
    name = host.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
    reply = recv_exact(sock, 4)
    if reply[1] != 0:
        raise OSError(f"SOCKS5 reply {reply[1]}")
    skip = {1: 4, 4: 16}.get(reply[3])
    if skip is None:
        skip = recv_exact(sock, 1)[0]
    recv_exact(sock, skip + 2)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed early")
        data += chunk
    return data


def read_head(sock):
    """Returns (content_length, the body bytes read past the header)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed in the header")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if " 200 " not in lines[0] + " ":
        raise OSError(f"HTTP status: {lines[0]}")
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            return int(value), rest
    raise OSError("no Content-Length")


def download(args):
    result = {"size": 0, "sha256": "", "total_s": 0.0, "ttfb_s": 0.0,
              "goodput_bytes_per_s": 0, "steady_bytes_per_s": 0}
    started = time.monotonic()
    proxy = args.socks.rsplit(":", 1) if args.socks else None
    target = (proxy[0], int(proxy[1])) if proxy else (args.host, args.port)
    with socket.create_connection(target, timeout=args.timeout) as sock:
        if proxy:
            socks5_connect(sock, args.host, args.port)
        sock.sendall(f"GET /{args.path} HTTP/1.0\r\nHost: {args.host}\r\n\r\n".encode())
        length, body = read_head(sock)
        first = time.monotonic()
        digest = hashlib.sha256(body)
        size = len(body)
        half_at = None
        while size < length:
            if half_at is None and size >= length // 2:
                half_at = (time.monotonic(), size)
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
        end = time.monotonic()
    result.update(size=size, sha256=digest.hexdigest(), total_s=round(end - started, 3),
                  ttfb_s=round(first - started, 3))
    if end > started:
        result["goodput_bytes_per_s"] = round(size / (end - started))
    if half_at is not None and end > half_at[0]:
        result["steady_bytes_per_s"] = round((size - half_at[1]) / (end - half_at[0]))
    return result, size == length


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("--socks", help="HOST:PORT of a SOCKS5 proxy")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    try:
        result, complete = download(args)
    except OSError as error:
        result, complete = {"error": str(error)}, False
    print(json.dumps(result), flush=True)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
