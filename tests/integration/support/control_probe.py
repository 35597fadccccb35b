#!/usr/bin/env python3
"""Raw JSON-RPC lines on a node's control socket (docs/control.md), for what
the nyx CLI never sends: prints one JSON error code per check, space-separated.

  control_probe.py DATA_DIR
    1. node.info without auth              -> -32001 (then the node hangs up)
    2. a wrong cookie                      -> -32002
    3. auth, then a line that is not JSON  -> -32700, then node.info still answers ("ok")
    4. auth, then an unknown method        -> -32601
"""
import json
import socket
import sys


def session(data_dir, lines):
    answers = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(f"{data_dir}/control.sock")
        stream = sock.makefile("rwb")
        for line in lines:
            stream.write(line.encode() + b"\n")
            stream.flush()
            reply = stream.readline()
            if not reply:
                answers.append("closed")
                break
            reply = json.loads(reply)
            answers.append(str(reply["error"]["code"]) if "error" in reply else "ok")
    return answers


def main():
    data_dir = sys.argv[1]
    with open(f"{data_dir}/control.cookie", "rb") as f:
        cookie = f.read().hex()

    def call(method, params=None, id_=1):
        message = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            message["params"] = params
        return json.dumps(message)

    auth = call("auth", {"cookie": cookie})
    results = [
        session(data_dir, [call("node.info")])[0],
        session(data_dir, [call("auth", {"cookie": "00" * 32})])[0],
        *session(data_dir, [auth, "{not json", call("node.info", id_=2)])[1:],
        session(data_dir, [auth, call("no.such.method")])[1],
    ]
    print(" ".join(results))


if __name__ == "__main__":
    main()
