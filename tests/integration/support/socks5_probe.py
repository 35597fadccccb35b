#!/usr/bin/env python3
"""A SOCKS5 (RFC 1928) client that prints exactly what the server answered.

  socks5_probe.py SOCKS_HOST SOCKS_PORT connect HOST PORT   -> the reply code, e.g. "0" or "5"
  socks5_probe.py SOCKS_HOST SOCKS_PORT command CMD          -> the reply code to command CMD
                                                               (2 BIND, 3 UDP ASSOCIATE)
  socks5_probe.py SOCKS_HOST SOCKS_PORT greeting HEX         -> the server's bytes as hex,
                                                               or "closed"
HOST is sent as an IPv4 address when it is one, else as a name (resolved at
the exit). "closed" when the server hangs up before replying; exit status 0
whenever the server answered something.
"""
import ipaddress
import socket
import struct
import sys


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def request(sock, cmd, host, port):
    try:
        address = b"\x01" + ipaddress.IPv4Address(host).packed
    except ipaddress.AddressValueError:
        name = host.encode()
        address = b"\x03" + bytes([len(name)]) + name
    sock.sendall(b"\x05\x01\x00")
    if recv_exact(sock, 2) != b"\x05\x00":
        return "no-auth refused"
    sock.sendall(bytes([5, cmd, 0]) + address + struct.pack(">H", port))
    reply = recv_exact(sock, 2)
    return "closed" if reply is None else str(reply[1])


def main():
    socks_host, socks_port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with socket.create_connection((socks_host, socks_port), timeout=60) as sock:
        if mode == "connect":
            print(request(sock, 1, sys.argv[4], int(sys.argv[5])))
        elif mode == "command":
            print(request(sock, int(sys.argv[4]), "127.0.0.1", 80))
        elif mode == "greeting":
            sock.sendall(bytes.fromhex(sys.argv[4]))
            try:
                reply = sock.recv(64)
            except ConnectionResetError:
                reply = b""
            print(reply.hex() if reply else "closed")
        else:
            sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
