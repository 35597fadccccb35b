#!/usr/bin/env python3
"""The control methods the docs promise are the ones a running node serves.

  docs_methods_test.py PATH/TO/nyxctl

Reads every method and its result from docs/control.md (the "Methods served by
the control server itself" headings and the "Methods of the node" table) and
the method names of docs/nyxd.md's "Control methods" table; starts a 5-node
testnet (nyxctl testnet up); holds a stream open through the client; then calls
every documented method on the client's control socket (the same JSON-RPC lines
as support/control_probe.py) and checks each answer against the documented
shape: every documented field present, no undocumented field where the doc
lists an object's fields (docs/control.md explains the notation). Methods with
side effects run last and node.shutdown very last: the client is then
discarded with the rest of the testnet. Also fails when a method registered in
daemon/*.cpp is documented nowhere, or the two docs list different methods.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A port range of its own, laid out as support/testnet_env.sh does (slot 5).
BASE = 21000 + 5 * 1000 + (os.getpid() % 95) * 10
NODES = 5
FAILURES = []
# Methods of a role the testnet's client does not have: called there, each
# must give the refusal its row documents (the role's own test checks the
# result: tests/integration/nyxd_network_test.cpp for authority.status,
# testnet_rotation_test.sh for onion_keys.list).
ROLE_METHODS = {"authority.status": -32602, "onion_keys.list": -32602}


def fail(what):
    print(f"FAIL: {what}", file=sys.stderr)
    FAILURES.append(what)


# ---- the docs' result notation (docs/control.md, "Methods of the node") ----

class Parser:
    """Reads a result code span such as {"id", "state": "a" | "b", "hops": [..]}
    into a schema: ("object", fields, wildcard, open), ("array", item),
    ("enum", values), ("true",) or ("any",). fields maps a name to
    [schema, optional]."""

    def __init__(self, text):
        self.s = text.replace("\\|", "|")
        self.i = 0

    def peek(self):
        self.skip_space()
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_space(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def string(self):
        end = self.s.index('"', self.i + 1)
        text = self.s[self.i + 1:end]
        self.i = end + 1
        return text

    def note(self):
        """A parenthesised note; True when it says the field may be absent."""
        depth, start = 0, self.i
        while self.i < len(self.s):
            depth += {"(": 1, ")": -1}.get(self.s[self.i], 0)
            self.i += 1
            if depth == 0:
                break
        return self.s[start + 1:self.i - 1].strip().startswith("only")

    def skip_to_close(self, closer):
        """Skips free text (e.g. "identity hex, entry first") up to closer."""
        depth = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in "[{(":
                depth += 1
            elif c in "]})":
                if depth == 0 and c == closer:
                    self.i += 1
                    return
                depth -= 1
            self.i += 1

    def value(self):
        c = self.peek()
        if c == "{":
            return self.obj()
        if c == "[":
            self.i += 1
            if self.peek() in ("]", "."):
                self.skip_to_close("]")
                return ("array", ("any",))
            item = self.value()
            self.skip_to_close("]")
            return ("array", item)
        if c == '"':
            values = [self.string()]
            while self.peek() == "|":
                self.i += 1
                if self.peek() != '"':
                    return ("any",)
                values.append(self.string())
            return ("enum", values)
        word = re.match(r"[^,\]}(]*", self.s[self.i:]).group(0)
        self.i += len(word)
        return ("true",) if word.strip() == "true" else ("any",)

    def obj(self):
        self.i += 1
        fields, wildcard, is_open, last = {}, None, False, None
        while True:
            c = self.peek()
            if c == "" or c == "}":
                self.i += 1
                return ("object", fields, wildcard, is_open)
            if c == ",":
                self.i += 1
            elif c == ".":
                is_open = True
                self.i += 1
            elif c == "(":
                if self.note() and last is not None:
                    last[1] = True
            elif c == '"':
                name = self.string()
                schema = ("any",)
                if self.peek() == "(":
                    optional = self.note()
                else:
                    optional = False
                if self.peek() == ":":
                    self.i += 1
                    schema = self.value()
                if name.startswith("<"):
                    wildcard, last = schema, None
                else:
                    last = fields[name] = [schema, optional]
            else:
                raise ValueError(f"cannot read {self.s[self.i:]!r}")


def check(value, schema, where):
    kind = schema[0]
    if kind == "object":
        _, fields, wildcard, is_open = schema
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {json.dumps(value)[:80]}"]
        errors = []
        for name, (sub, optional) in fields.items():
            if name in value:
                errors += check(value[name], sub, f"{where}.{name}")
            elif not optional:
                errors.append(f"{where}: documented field '{name}' missing")
        for name in value:
            if name in fields:
                continue
            if wildcard is not None:
                errors += check(value[name], wildcard, f"{where}.{name}")
            elif not is_open and fields:
                errors.append(f"{where}: field '{name}' is not documented")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {json.dumps(value)[:80]}"]
        return [e for i, item in enumerate(value) for e in check(item, schema[1], f"{where}[{i}]")]
    if kind == "enum" and value not in schema[1]:
        return [f"{where}: {value!r} is not one of {schema[1]}"]
    if kind == "true" and value is not True:
        return [f"{where}: expected true, got {value!r}"]
    return []


def cells(row):
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def code_span(text):
    m = re.search(r"`([^`]*)`", text)
    return m.group(1) if m else ""


def schema_of(span):
    """The schema a code span documents, or None when it is not a result shape
    (docs/nyxd.md's summaries: `node.stats pushed ...`)."""
    return Parser(span).value() if span.startswith(("{", "[")) else None


def table_rows(markdown, heading):
    """The rows of the first table under `## heading`, as lists of cells."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [cells(line) for line in section.splitlines()
            if line.startswith("| `")]


def documented_methods():
    """{method: (params cell, result schema or None)} from docs/control.md, and
    {method: result schema or None} from docs/nyxd.md."""
    control = (ROOT / "docs/control.md").read_text()
    methods = {}
    own = control.split("\n## Methods served by the control server itself\n", 1)[1]
    own = own.split("\n## ", 1)[0]
    for name, body in re.findall(r"^### `([a-z_.]+)`\n(.*?)(?=^### |\Z)", own, re.S | re.M):
        # Their params (auth's cookie, the interval) are filled in by name.
        methods[name] = ("—", Parser(code_span(body.split("→", 1)[1])).value())
    for method, params, result in table_rows(control, "Methods of the node"):
        span = code_span(result)  # a prose result (no object or array) is not checked
        methods[code_span(method)] = (params, schema_of(span))
    nyxd = {}
    for method, result in table_rows((ROOT / "docs/nyxd.md").read_text(), "Control methods"):
        nyxd[code_span(method)] = schema_of(code_span(result))
    return methods, nyxd


def registered_methods():
    """Every method nyxd registers (add("name", ...) in daemon/)."""
    names = set()
    for path in (ROOT / "daemon").rglob("*.cpp"):
        names |= set(re.findall(r'\badd\("([a-z_]+\.[a-z_.]+)"', path.read_text()))
    return names


# ---- the node ----

class Control:
    """One control connection, authenticated with the cookie at once (the
    first call must be auth; a second auth answers the same again)."""

    def __init__(self, data_dir):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(15)
        self.sock.connect(f"{data_dir}/control.sock")
        self.stream = self.sock.makefile("rwb")
        self.next_id = 1
        self.cookie = Path(data_dir, "control.cookie").read_bytes().hex()
        reply = self.call("auth", {"cookie": self.cookie})
        if reply.get("result", {}).get("authenticated") is not True:
            raise ConnectionError(f"auth failed: {reply}")

    def send(self, method, params=None):
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.next_id += 1
        self.stream.write(json.dumps(message).encode() + b"\n")
        self.stream.flush()
        return message["id"]

    def read(self):
        line = self.stream.readline()
        if not line:
            raise ConnectionError("the node closed the control connection")
        return json.loads(line)

    def call(self, method, params=None):
        """The answer to one call: its result, or its error object."""
        id_ = self.send(method, params)
        while True:
            reply = self.read()
            if reply.get("id") == id_:
                return reply

    def close(self):
        self.sock.close()


def hold_stream(socks_port, origin):
    """Opens a SOCKS5 CONNECT through the client to origin (a listening socket
    of this test) and keeps it open, so streams.list has a stream to show."""
    conn = socket.create_connection(("127.0.0.1", socks_port), timeout=30)
    conn.sendall(b"\x05\x01\x00")
    if conn.recv(2) != b"\x05\x00":
        raise RuntimeError("SOCKS5 greeting refused")
    port = origin.getsockname()[1]
    conn.sendall(b"\x05\x01\x00\x01" + bytes([127, 0, 0, 1]) + port.to_bytes(2, "big"))
    reply = conn.recv(10)
    if len(reply) < 2 or reply[1] != 0:
        raise RuntimeError(f"SOCKS5 CONNECT refused: {reply.hex()}")
    accepted, _ = origin.accept()
    conn.sendall(b"ping")
    accepted.recv(4)  # the bytes went through all three hops
    return conn, accepted


def running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def call_order(name):
    """Read-only methods first; node.shutdown last; the rest in between, by
    name (circuit.build before circuit.close, which closes what it built;
    directory.get before directory.offer, which offers back what it got)."""
    if name == "node.shutdown":
        return (3, name)
    if name.rsplit(".", 1)[-1] in ("info", "stats", "list"):
        return (0, name)
    if name in ("auth", "events.subscribe"):
        return (1, name)
    return (2, name)


def run(nyxctl, net):
    methods, nyxd_methods = documented_methods()
    print(f"documented: {', '.join(sorted(methods))}")

    for name in sorted(registered_methods() - set(methods)):
        fail(f"{name}: nyxd registers it, docs/control.md does not document it")
    node_methods = set(methods) - {"auth"}
    for name in sorted(set(nyxd_methods) ^ node_methods):
        where = "docs/nyxd.md" if name in nyxd_methods else "docs/control.md"
        fail(f"{name}: only {where} lists it (docs/nyxd.md's Control methods table and "
             f"docs/control.md disagree)")

    up = subprocess.run([nyxctl, "testnet", "up", "--nodes", str(NODES), "--dir", str(net),
                         "--base-port", str(BASE)], capture_output=True, text=True)
    if up.returncode != 0:
        fail(f"nyxctl testnet up exited {up.returncode}:\n{up.stdout}{up.stderr}")
        return
    client = net / "node1/data"

    origin = socket.create_server(("127.0.0.1", BASE + 9))
    held = hold_stream(BASE + NODES, origin)
    control = Control(client)
    built = None
    consensus = None  # directory.get's answer, offered back by directory.offer
    for name in sorted(methods, key=call_order):
        params_doc, schema = methods[name]
        params = None
        if name == "auth":
            params = {"cookie": control.cookie}
        elif name == "events.subscribe":
            params = {"interval_ms": 100}
        elif name == "circuit.close":
            if built is None:
                fail("circuit.close: no circuit id (circuit.build did not answer one)")
                continue
            params = {"id": built}
        elif name == "directory.offer":
            if consensus is None:
                fail("directory.offer: no consensus (directory.get did not answer one)")
                continue
            params = {"consensus": consensus}
        elif params_doc not in ("—", "-", ""):
            fail(f"{name}: documented params {params_doc} that this test does not know how to "
                 f"fill: add them to docs_methods_test.py")
            continue
        reply = control.call(name, params)
        if name in ROLE_METHODS:
            code = reply.get("error", {}).get("code")
            if code == ROLE_METHODS[name]:
                print(f"ok: {name} refuses a node without its role as documented")
            else:
                fail(f"{name}: expected error {ROLE_METHODS[name]} on the client, got {reply}")
            continue
        if "error" in reply:
            fail(f"{name}: error {reply['error']}")
            continue
        result = reply.get("result")
        errors = check(result, schema, name) if schema else []
        errors += check(result, nyxd_methods.get(name) or ("any",), f"{name} (docs/nyxd.md)")
        for error in errors:
            fail(error)
        if not errors:
            print(f"ok: {name} answers as documented")
        if name == "circuit.build" and isinstance(result, dict):
            built = result.get("id")
        if name == "directory.get" and isinstance(result, dict):
            consensus = result.get("consensus")
        if name == "events.subscribe":
            # The pushed updates carry node.stats' object.
            update = control.read()
            while "id" in update:
                update = control.read()
            errors = check(update.get("params", {}).get("data"), methods["node.stats"][1],
                           "events.update data") if update.get("method") == "events.update" \
                else [f"events.subscribe: pushed {update}, not events.update"]
            for error in errors:
                fail(error)
            if not errors:
                print("ok: events.update carries node.stats as documented")
            # A fresh connection for the rest, so no update interleaves.
            control.close()
            control = Control(client)
        if name == "streams.list" and not result:
            fail("streams.list is empty while this test holds a stream open: its fields went "
                 "unchecked")
        if name == "circuits.list" and not (isinstance(result, dict) and result.get("circuits")):
            fail("circuits.list lists no circuit on a ready client: its fields went unchecked")
    control.close()
    for sock in (*held, origin):
        sock.close()

    # node.shutdown: the node really goes, within its drain deadline and a margin.
    if "node.shutdown" in methods:
        pid = int((net / "node1/nyxd.pid").read_text())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and running(pid):
            time.sleep(0.1)
        if running(pid):
            fail(f"the client (pid {pid}) still runs 10 s after node.shutdown")
        else:
            print("ok: node.shutdown stopped the node")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: docs_methods_test.py PATH/TO/nyxctl")
    nyxctl = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="nyx-docs-methods-") as work:
        net = Path(work) / "net"
        try:
            run(nyxctl, net)
        except Exception as error:  # a broken node or doc: report it, then tear down
            fail(f"{type(error).__name__}: {error}")
        finally:
            if (net / "testnet.json").exists():
                if FAILURES:
                    for log in sorted(net.glob("node*/nyxd.log")):
                        print(f"---- tail of {log}", file=sys.stderr)
                        print("".join(log.read_text().splitlines(True)[-20:]), file=sys.stderr)
                subprocess.run([nyxctl, "testnet", "down", "--dir", str(net)],
                               capture_output=True)
    if FAILURES:
        print(f"docs_methods: {len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("docs_methods: all checks passed")


if __name__ == "__main__":
    main()
