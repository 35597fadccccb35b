#!/usr/bin/env python3
"""Reference implementation of docs/proposals/0001-wide-block-cells.md.

Dependency-free Python 3: ChaCha20 and Poly1305 per RFC 8439, SipHash-2-4
per Aumasson-Bernstein (2012), BLAKE2b from hashlib. Every primitive is
checked against its published test vector first. The functions below are
the proposal's pseudo-code, name for name (section numbers in comments).

Run: python3 tests/vectors/wide_block_cells.py > tests/vectors/wide_block_cells.txt
It prints known-answer vectors (hex) and exits non-zero if any check fails.
"""

import hashlib
import struct
import sys

# ---------------------------------------------------------------- primitives

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1


def _rotl32(v, c):
    return ((v << c) & M32) | (v >> (32 - c))


def chacha20_block(key, counter, nonce):
    """RFC 8439 2.3: one 64-byte block, 32-byte key, 32-bit counter, 12-byte nonce."""
    s = ([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
         + list(struct.unpack("<8I", key)) + [counter]
         + list(struct.unpack("<3I", nonce)))
    x = s[:]

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & M32; x[d] = _rotl32(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & M32; x[b] = _rotl32(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & M32; x[d] = _rotl32(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & M32; x[b] = _rotl32(x[b] ^ x[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<16I", *[(x[i] + s[i]) & M32 for i in range(16)])


def chacha20(key, nonce, counter, length):
    """RFC 8439 2.4 keystream: `length` bytes from block `counter` on."""
    out = bytearray()
    while len(out) < length:
        out += chacha20_block(key, counter, nonce)
        counter += 1
    return bytes(out[:length])


def poly1305(key, msg):
    """RFC 8439 2.5: 32-byte key r || s (r clamped here), 16-byte output."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:32], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        acc = ((acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r) % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _rotl64(v, c):
    return ((v << c) & M64) | (v >> (64 - c))


def siphash24(key, msg):
    """SipHash-2-4 with a 16-byte key; the 8 output bytes little-endian (as libsodium)."""
    k0, k1 = struct.unpack("<2Q", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def sipround():
        v[0] = (v[0] + v[1]) & M64; v[1] = _rotl64(v[1], 13) ^ v[0]; v[0] = _rotl64(v[0], 32)
        v[2] = (v[2] + v[3]) & M64; v[3] = _rotl64(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M64; v[3] = _rotl64(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M64; v[1] = _rotl64(v[1], 17) ^ v[2]; v[2] = _rotl64(v[2], 32)

    full = len(msg) - len(msg) % 8
    words = [msg[i:i + 8] for i in range(0, full, 8)]
    words.append(msg[full:] + bytes(7 - len(msg) % 8) + bytes([len(msg) & 0xFF]))
    for w in words:
        m = struct.unpack("<Q", w)[0]
        v[3] ^= m; sipround(); sipround(); v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        sipround()
    return struct.pack("<Q", v[0] ^ v[1] ^ v[2] ^ v[3])


def kdf(key, label, length):
    """docs/protocol.md: BLAKE2b-L(key = K, "nyx-kdf-v1" || 0x00 || label)."""
    return hashlib.blake2b(b"nyx-kdf-v1\x00" + label.encode(), digest_size=length, key=key).digest()


def xor(a, b):
    assert len(a) == len(b)
    return bytes(x ^ y for x, y in zip(a, b))


def self_test():
    key = bytes(range(32))
    blk = chacha20_block(key, 1, bytes.fromhex("000000090000004a00000000"))
    assert blk.hex() == ("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                         "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"), "RFC 8439 2.3.2"
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    ct = xor(pt, chacha20(key, bytes.fromhex("000000000000004a00000000"), 1, len(pt)))
    assert ct.hex() == ("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                        "5af90bbf74a35be6b40b8eedf2785e42874d"), "RFC 8439 2.4.2"
    tag = poly1305(bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"),
                   b"Cryptographic Forum Research Group")
    assert tag.hex() == "a8061dc1305136c6c22b8baf0c0127a9", "RFC 8439 2.5.2"
    assert siphash24(bytes(range(16)), bytes(range(15))).hex() == "e545be4961ca29a1", "SipHash A"
    assert siphash24(bytes(range(16)), b"").hex() == "310e0edd47db6f72", "SipHash empty"
    assert kdf(bytes(range(32)), "nyx test", 32).hex() == \
        "118c3c7b23f6d932d9a92b0d789f5de4bdefd5084cf3df83773d44f152cfa325", "protocol.md KDF"


# ---------------------------------------------------------------- parameters (section 3)

PAYLOAD = 1019          # cell payload (CELL_SIZE 1024 - circuit id 4 - command 1)
HDR = 16                # one hop's header slot
BODY = PAYLOAD - HDR    # 1003
MAX_HOPS = 7
RESERVED = HDR * (MAX_HOPS - 1)   # 96: room for six more hops' slots
PLAIN = 891             # end-to-end plaintext region, both directions
MAX_DATA = PLAIN - 3    # 888
FWD_SPARE = BODY - RESERVED - PLAIN   # 16 client-random bytes (forward only)
BWD_R = BODY - HDR      # 987: what a backward hop streams
W = 2048                # slots per epoch (forward replay window)
CMD_CREATED, CMD_RELAY, CMD_DESTROY = 2, 3, 4
T_DATA, T_DROP, T_CREATED, T_REFUSED, T_END = 1, 2, 3, 4, 5
ZERO8 = bytes(8)


class DirKeys:
    def __init__(self, s, d):
        self.stream = kdf(s, f"mix-cell-{d}-stream", 32)
        self.hash = kdf(s, f"mix-cell-{d}-hash", 32)
        self.perm = kdf(s, f"mix-cell-{d}-perm", 64)


class HopKeys:
    def __init__(self, s):
        self.fwd = DirKeys(s, "fwd")
        self.bwd = DirKeys(s, "bwd")


# ---------------------------------------------------------------- ET (section 4.2)

def et_enc(perm, h, c, z):
    a, b = z[:8], z[8:]
    for j in range(4):
        a, b = b, xor(a, siphash24(perm[16 * j:16 * j + 16], h + b + bytes([c])))
    return a + b


def et_dec(perm, h, c, z):
    a, b = z[:8], z[8:]
    for j in (3, 2, 1, 0):
        a, b = xor(b, siphash24(perm[16 * j:16 * j + 16], h + a + bytes([c]))), a
    return a + b


# ---------------------------------------------------------------- plaintext (section 5)

def encode_plain(t, data):
    assert len(data) <= MAX_DATA
    return bytes([t]) + len(data).to_bytes(2, "big") + data + bytes(MAX_DATA - len(data))


def decode_plain(p):
    n = int.from_bytes(p[1:3], "big")
    if p[0] not in (T_DATA, T_DROP, T_CREATED, T_REFUSED, T_END) or n > MAX_DATA:
        return None
    return p[0], p[3:3 + n]


def fwd_header(epoch, slot):
    return epoch.to_bytes(6, "big") + slot.to_bytes(2, "big") + ZERO8


def bwd_header(counter):
    return counter.to_bytes(8, "big") + ZERO8


# ---------------------------------------------------------------- forward (section 6)

def fwd_hop(k, c, cell):
    """FWD_HOP (6.2): returns (X, body', pad); the checks are RELAY_FWD's."""
    n, b = cell[:HDR], cell[HDR:]
    h = poly1305(k.hash, b)
    x = et_enc(k.perm, h, c, n)
    ks = chacha20(k.stream, x[:12], 0, PAYLOAD)
    return x, xor(b, ks[:BODY]), ks[BODY:]


def header_ok(x):
    return x[8:] == ZERO8 and int.from_bytes(x[6:8], "big") < W


class FwdWindow:
    """Section 6.3: per circuit, at each hop; two W-bit bitmaps (sets here)."""

    def __init__(self):
        self.top = None
        self.cur, self.prev = set(), set()

    def check(self, epoch, slot):
        if self.top is None or epoch > self.top:
            return "new"
        if epoch == self.top:
            return "replay" if slot in self.cur else "new"
        if epoch == self.top - 1:
            return "replay" if slot in self.prev else "new"
        return "old"

    def mark(self, epoch, slot):
        if self.top is None or epoch > self.top + 1:
            self.cur, self.prev = set(), set()
            self.top = epoch
        elif epoch == self.top + 1:
            self.prev, self.cur = self.cur, set()
            self.top = epoch
        (self.cur if epoch == self.top else self.prev).add(slot)


def relay_forward(k, c, cell, window, last):
    """RELAY_FWD (6.2): ('tampered'|'replay'|'old', None) or ('ok', out)."""
    x, body, pad = fwd_hop(k, c, cell)   # C++: compute the keystream only after the checks
    if not header_ok(x):
        return "tampered", None
    epoch, slot = int.from_bytes(x[:6], "big"), int.from_bytes(x[6:8], "big")
    verdict = window.check(epoch, slot)
    if verdict != "new":
        return verdict, None
    window.mark(epoch, slot)
    return "ok", (body[:PLAIN] if last else body + pad)


def client_seal(keys, c, headers, plain, spare):
    """CLIENT_SEAL (6.4): keys[i] = hop i's forward keys, headers[i] = X_i."""
    n = len(keys)
    ks = [chacha20(k.stream, x[:12], 0, PAYLOAD) for k, x in zip(keys, headers)]
    phi = b""
    for i in range(n - 1):
        phi = xor(phi, ks[i][BODY - len(phi):BODY]) + ks[i][BODY:PAYLOAD]
    junk = BODY - PLAIN - len(phi)              # 16 * (8 - n) client-random bytes
    assert len(spare) == junk
    p = plain + spare + xor(phi, ks[n - 1][BODY - len(phi):BODY])
    b = xor(p, ks[n - 1][:BODY])
    for i in range(n - 1, -1, -1):
        h = poly1305(keys[i].hash, b)
        cell = et_dec(keys[i].perm, h, c, headers[i]) + b
        if i > 0:
            assert cell[BODY:] == ks[i - 1][BODY:PAYLOAD]   # the pad hop i-1 will append
            b = xor(cell[:BODY], ks[i - 1][:BODY])
    return cell


# ---------------------------------------------------------------- backward (section 7)

def bwd_hop(k, c, cell, r):
    """BWD_HOP (7.2); ORIGINATE is bwd_hop(k, c, origin_cell(counter, plain), r)."""
    l, rr, a = cell[:HDR], cell[HDR:BODY], cell[BODY:]
    h = poly1305(k.hash, r + rr + a)
    y = et_enc(k.perm, h, c, l)
    return r + y + xor(rr, chacha20(k.stream, y[:12], 0, BWD_R))


def origin_cell(counter, plain):
    return bwd_header(counter) + plain + bytes(RESERVED) + bytes(HDR)


def client_open(keys, c, cell):
    """CLIENT_OPEN (7.3) for an origin at layer len(keys)-1: (counter, plain) or None."""
    m = len(keys)
    # Phase 1: every layer's Y and keystream, from the front bytes only.
    ys, ss = [], []
    w = cell
    for k in keys:
        y = w[HDR:2 * HDR]
        s = chacha20(k.stream, y[:12], 0, BWD_R)
        ys.append(y); ss.append(s)
        w = bytes(HDR) + xor(w[2 * HDR:], s) + bytes(HDR)   # L and A unknown here, unused
    # Phase 2: the 16 bytes each hop dropped, from the origin's zero tail.
    drops = [None] * m
    drops[m - 1] = bytes(HDR)
    t = ss[m - 1][PLAIN:BWD_R]                  # last 96 bytes of C_origin
    for j in range(m - 2, -1, -1):
        drops[j] = t[-HDR:]
        t = xor(t[:-HDR], ss[j][BODY - len(t):BWD_R])
    # Phase 3: undo each layer with its full tweak.
    for j, k in enumerate(keys):
        r, rr = cell[:HDR], xor(cell[2 * HDR:], ss[j])
        h = poly1305(k.hash, r + rr + drops[j])
        l = et_dec(k.perm, h, c, ys[j])
        cell = l + rr + drops[j]
    x, p = cell[:HDR], cell[HDR:BODY]
    if x[8:] != ZERO8 or p[PLAIN:] != bytes(RESERVED):
        return None
    return int.from_bytes(x[:8], "big"), p[:PLAIN]


def client_open_destroy(keys, cell):
    """OPEN_DESTROY (8): try every origin, exit first; (origin, reason) or None."""
    for o in range(len(keys), 0, -1):
        opened = client_open(keys[:o], CMD_DESTROY, cell)
        if opened and decode_plain(opened[1]) and decode_plain(opened[1])[0] == T_END:
            return o - 1, decode_plain(opened[1])[1][0]
    return None


class BwdWindow:
    """7.4: the client's RFC 6479-style window on the origin's counter (4032 wide)."""

    def __init__(self, size=4032):
        self.size, self.top, self.seen = size, None, set()

    def accept(self, n):
        if self.top is not None and (n + self.size <= self.top or n in self.seen):
            return False
        self.seen.add(n)
        self.top = n if self.top is None else max(self.top, n)
        self.seen = {v for v in self.seen if v + self.size > self.top}
        return True


# ---------------------------------------------------------------- vectors and checks

def det(label, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.blake2b(label.encode() + i.to_bytes(4, "big"), digest_size=64).digest()
        i += 1
    return out[:n]


def show(name, value):
    h = value.hex()
    if len(h) <= 64:
        print(f"{name} = {h}")
    else:
        print(f"{name} =")
        for i in range(0, len(h), 64):
            print(f"    {h[i:i + 64]}")


FAILED = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILED.append(what)


def equal_bytes(a, b):
    return sum(x == y for x, y in zip(a, b))


def main():
    self_test()
    print("# Nyx wide-block cells (docs/proposals/0001-wide-block-cells.md): known-answer vectors")
    print("# generated by tests/vectors/wide_block_cells.py; every value is hex")
    print("ok   primitives: RFC 8439 2.3.2, 2.4.2, 2.5.2; SipHash-2-4 (paper, App. A); protocol.md KDF")

    secrets = [bytes(range(32 * i, 32 * i + 32)) for i in range(3)]
    hops = [HopKeys(s) for s in secrets]
    print("\n## keys: hop i derives from s_i (s_0 = 00..1f, s_1 = 20..3f, s_2 = 40..5f)")
    for i, hk in enumerate(hops):
        for d, dk in (("fwd", hk.fwd), ("bwd", hk.bwd)):
            show(f"hop{i}.{d}.stream", dk.stream)
            show(f"hop{i}.{d}.hash", dk.hash)
            show(f"hop{i}.{d}.perm", dk.perm)

    k0 = hops[0].fwd
    print("\n## ET: hop0.fwd.perm, h = 000102..0f, c = 3")
    h = bytes(range(16))
    z = fwd_header(0x0000DEADBEEF, 0x0123)
    show("ET.in", z)
    show("ET.enc", et_enc(k0.perm, h, CMD_RELAY, z))
    check(et_dec(k0.perm, h, CMD_RELAY, et_enc(k0.perm, h, CMD_RELAY, z)) == z, "ET_dec inverts ET_enc")

    print("\n## one hop, forward (FWD_HOP with hop0.fwd, c = 3)")
    x = fwd_header(0x0000DEADBEEF, 0x0123)
    body = det("kat one-hop forward body", BODY)
    n_in = et_dec(k0.perm, poly1305(k0.hash, body), CMD_RELAY, x)   # the client's side
    cell = n_in + body
    show("X (header the hop must find)", x)
    show("input cell = N || B", cell)
    xo, bo, pad = fwd_hop(k0, CMD_RELAY, cell)
    show("output X", xo)
    show("output cell = B' || pad", bo + pad)
    check(xo == x and header_ok(xo), "FWD_HOP recovers the header the client chose")
    inv = xor(bo, chacha20(k0.stream, xo[:12], 0, BODY))
    check(inv == body and et_dec(k0.perm, poly1305(k0.hash, inv), CMD_RELAY, xo) == n_in,
          "the client's inverse undoes FWD_HOP")
    for pos in (0, 7, 15, 16, 500, 1018):
        flipped = bytearray(cell); flipped[pos] ^= 0x01
        xf, bf, pf = fwd_hop(k0, CMD_RELAY, bytes(flipped))
        same = equal_bytes(xo + bo + pad, xf + bf + pf)
        check(same <= 16 and not header_ok(xf),
              f"one flipped input bit (byte {pos}) garbles the whole output: {same}/1035 bytes equal")

    print("\n## one hop, backward (BWD_HOP with hop0.bwd, c = 3)")
    kb = hops[0].bwd
    cell = det("kat one-hop backward cell", PAYLOAD)
    r = bytes(range(0xA0, 0xB0))
    show("r", r)
    show("input cell = L || R || A", cell)
    out = bwd_hop(kb, CMD_RELAY, cell, r)
    show("output cell = r || Y || R'", out)
    rr = xor(out[2 * HDR:], chacha20(kb.stream, out[HDR:2 * HDR][:12], 0, BWD_R))
    l = et_dec(kb.perm, poly1305(kb.hash, r + rr + cell[BODY:]), CMD_RELAY, out[HDR:2 * HDR])
    check(l + rr == cell[:BODY], "the client's inverse undoes BWD_HOP (given the dropped bytes)")
    for pos in (0, 15, 16, 600, 1003, 1018):
        flipped = bytearray(cell); flipped[pos] ^= 0x80
        same = equal_bytes(out[HDR:], bwd_hop(kb, CMD_RELAY, bytes(flipped), r)[HDR:])
        check(same <= 16, f"one flipped input bit (byte {pos}) garbles the whole output: {same}/1003 bytes equal")

    print("\n## three hops, forward: client seal -> hop 0 -> hop 1 -> hop 2 (exit)")
    headers = [fwd_header(0x00000000A1B2, 0x0007), fwd_header(0x000012345678, 0x07FF),
               fwd_header(0x00007FFFFFFF, 0x0400)]
    data = b"Nyx wide-block cells: a known-answer test of the forward direction."
    plain = encode_plain(T_DATA, data)
    spare = det("kat forward spare", BODY - PLAIN - HDR * 2)
    for i, x in enumerate(headers):
        show(f"X_{i}", x)
    show("plaintext region (891)", plain)
    show("client random (16 spare + 64 unused slots)", spare)
    fkeys = [hk.fwd for hk in hops]
    cell = client_seal(fkeys, CMD_RELAY, headers, plain, spare)
    wins = [FwdWindow() for _ in hops]
    cells = [cell]
    for i in range(3):
        show(f"cell into hop {i}", cell)
        verdict, cell = relay_forward(fkeys[i], CMD_RELAY, cell, wins[i], i == 2)
        check(verdict == "ok", f"hop {i} accepts its header")
        cells.append(cell)
    show("exit plaintext region", cell)
    check(decode_plain(cell) == (T_DATA, data), "the exit reads the client's datagram")
    check(all(equal_bytes(cells[i][:HDR], cells[j][:HDR]) <= 2 for i in range(3) for j in range(i)),
          "the three hops' nonces share nothing")

    print("\n## three hops, backward: exit originates -> hop 1 -> hop 0 -> client")
    bkeys = [hk.bwd for hk in hops]
    data_b = b"Nyx wide-block cells: a known-answer test of the backward direction."
    rs = [bytes([0xB0 + i] * 16) for i in range(3)]
    cell = origin_cell(1, encode_plain(T_DATA, data_b))
    show("exit's virtual input X || P || 0^16", cell)
    for i in (2, 1, 0):
        show(f"r_{i}", rs[i])
        cell = bwd_hop(bkeys[i], CMD_RELAY, cell, rs[i])
        show(f"cell out of hop {i}", cell)
    opened = client_open(bkeys, CMD_RELAY, cell)
    check(opened is not None and opened[0] == 1 and decode_plain(opened[1]) == (T_DATA, data_b),
          "the client removes three layers and reads counter 1 and the datagram")

    print("\n## DESTROY: hop 1 originates END (reason 3, timeout) upstream; the client finds origin 1")
    end = origin_cell(0, encode_plain(T_END, bytes([3])))
    cell = bwd_hop(bkeys[1], CMD_DESTROY, end, bytes([0xC1] * 16))
    cell = bwd_hop(bkeys[0], CMD_DESTROY, cell, bytes([0xC0] * 16))
    show("DESTROY payload at the client", cell)
    check(client_open_destroy(bkeys, cell) == (1, 3), "the client reads (origin 1, reason 3)")
    check(client_open_destroy(bkeys, det("random destroy", PAYLOAD)) is None,
          "a random DESTROY payload opens to no reason")

    print("\n## properties (pseudo-random keys, every path length)")
    for n in range(1, MAX_HOPS + 1):
        hk = [HopKeys(det(f"path {n} hop {i}", 32)) for i in range(n)]
        fk, bk = [h.fwd for h in hk], [h.bwd for h in hk]
        hdrs = [fwd_header(i + 5, (37 * i + 11) % W) for i in range(n)]
        pl = encode_plain(T_DATA, det(f"data {n}", 100 + n))
        c = client_seal(fk, CMD_RELAY, hdrs, pl, det(f"spare {n}", 16 * (8 - n)))
        ok = True
        for i in range(n):
            v, c = relay_forward(fk[i], CMD_RELAY, c, FwdWindow(), i == n - 1)
            ok = ok and v == "ok"
        fwd_ok = ok and c == pl
        c = origin_cell(9, pl)
        for i in range(n - 1, -1, -1):
            c = bwd_hop(bk[i], CMD_RELAY, c, det(f"r {n} {i}", 16))
        check(fwd_ok and client_open(bk, CMD_RELAY, c) == (9, pl),
              f"{n} hops: seal/relay/open round-trip both ways")

    # Tagging, forward: the entry (hop 0) flips bits or XORs a pattern into
    # what it sends hop 1; hop 1 drops it. Even a hop 1 that did not check
    # would hand the exit a cell whose header fails after the XOR is undone.
    base = client_seal(fkeys, CMD_RELAY, headers, plain, spare)
    _, c1 = relay_forward(fkeys[0], CMD_RELAY, base, FwdWindow(), False)
    positions = sorted({0, 1, 8, 15, 16, 17, 100, 512, 890, 906, 907, 986, 987, 1002, 1003, 1010, 1018})
    drops = all(relay_forward(fkeys[1], CMD_RELAY,
                              c1[:p] + bytes([c1[p] ^ (1 << (p % 8))]) + c1[p + 1:], FwdWindow(),
                              False)[0] == "tampered" for p in positions)
    check(drops, f"forward: a bit flipped at any of {len(positions)} positions of hop 0's output is dropped by hop 1")
    pattern = det("tag pattern", PAYLOAD)
    xt, bt, pt = fwd_hop(fkeys[1], CMD_RELAY, xor(c1, pattern))
    undone = xor(bt + pt, pattern)     # the colluding exit XORs the pattern back
    check(not header_ok(xt) and relay_forward(fkeys[2], CMD_RELAY, undone, FwdWindow(), True)[0] == "tampered",
          "forward: XOR pattern at the entry, XOR back at the exit: hop 1 drops it, and the exit would too")

    # Tagging, backward: the exit XORs a pattern (or flips a bit) into what it
    # sends; the entry XORs it back before the client: the client rejects.
    b2 = bwd_hop(bkeys[2], CMD_RELAY, origin_cell(2, encode_plain(T_DATA, data_b)), rs[2])
    ok = True
    for p in positions:
        t = b2[:p] + bytes([b2[p] ^ (1 << (p % 8))]) + b2[p + 1:]
        ok = ok and client_open(bkeys, CMD_RELAY,
                                bwd_hop(bkeys[0], CMD_RELAY, bwd_hop(bkeys[1], CMD_RELAY, t, rs[1]), rs[0])) is None
    check(ok, f"backward: a bit flipped at any of {len(positions)} positions of the exit's output never opens")
    b1 = bwd_hop(bkeys[1], CMD_RELAY, xor(b2, pattern), rs[1])
    b0 = xor(bwd_hop(bkeys[0], CMD_RELAY, b1, rs[0]), pattern)
    check(client_open(bkeys, CMD_RELAY, b0) is None,
          "backward: XOR pattern at the exit, XOR back at the entry: the client rejects it")
    b1 = bwd_hop(bkeys[1], CMD_RELAY, b2, rs[1])
    ok = all(client_open(bkeys, CMD_RELAY,
                         bwd_hop(bkeys[0], CMD_RELAY, b1[:p] + bytes([b1[p] ^ 4]) + b1[p + 1:], rs[0])) is None
             for p in positions)
    check(ok, "backward: a bit flipped in hop 1's output (any sampled position) never opens")

    # Replay, forward: hop 1 sees the same cell twice.
    win = FwdWindow()
    first = relay_forward(fkeys[1], CMD_RELAY, c1, win, False)[0]
    second = relay_forward(fkeys[1], CMD_RELAY, c1, win, False)[0]
    check(first == "ok" and second == "replay", "forward: a replayed cell is dropped by the next hop")
    # Replay, backward: hop 1 replays; hop 0 re-randomises, the client drops it.
    b1 = bwd_hop(bkeys[1], CMD_RELAY, b2, rs[1])
    o1 = bwd_hop(bkeys[0], CMD_RELAY, b1, bytes([0xD0] * 16))
    o2 = bwd_hop(bkeys[0], CMD_RELAY, b1, bytes([0xD1] * 16))
    bw = BwdWindow()
    check(equal_bytes(o1, o2) <= 16, f"backward: the next hop re-randomises a replay ({equal_bytes(o1, o2)}/1019 equal)")
    check(bw.accept(client_open(bkeys, CMD_RELAY, o1)[0]) and not bw.accept(client_open(bkeys, CMD_RELAY, o2)[0]),
          "backward: the client opens the replay and drops it by the origin's counter")

    # Reordering: the window alone, three epochs of a client's slot schedule,
    # delivered with displacement < W; then every cell again; then an old one.
    sched = []
    order = list(range(W))
    for e in range(3):
        perm = order[:]
        seed = det(f"fisher-yates {e}", 4 * W)
        for i in range(W - 1, 0, -1):   # Fisher-Yates, as the client draws slots
            j = int.from_bytes(seed[4 * i:4 * i + 4], "big") % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        sched += [(1000 + e, s) for s in perm]
    seed = det("displacement", 4 * len(sched))   # sort by index + [0, W): displacement < W
    key = [i + int.from_bytes(seed[4 * i:4 * i + 4], "big") % W for i in range(len(sched))]
    shuffled = [sched[i] for i in sorted(range(len(sched)), key=lambda i: key[i])]
    where = {v: i for i, v in enumerate(shuffled)}
    moved = max(abs(where[v] - i) for i, v in enumerate(sched))
    win = FwdWindow()
    accepted = 0
    for e, s in shuffled:
        if win.check(e, s) == "new":
            win.mark(e, s)
            accepted += 1
    again = sum(win.check(e, s) == "new" for e, s in sched)
    check(accepted == len(sched) and again == 0,
          f"window: {accepted}/{len(sched)} cells reordered by up to {moved} places accepted once, "
          f"{again} of them again")
    check(win.check(1000, 5) == "old", "window: a cell two epochs old is dropped as too old")
    # Reordering end to end: six cells through three hops in reverse order.
    wins = [FwdWindow() for _ in hops]
    sealed = [client_seal(fkeys, CMD_RELAY, [fwd_header(7 + i, q) for i in range(3)],
                          encode_plain(T_DATA, bytes([q])), bytes(HDR * 5)) for q in range(6)]
    got = []
    for c in reversed(sealed):
        for i in range(3):
            v, c = relay_forward(fkeys[i], CMD_RELAY, c, wins[i], i == 2)
        got.append(decode_plain(c)[1][0])
    check(sorted(got) == list(range(6)), "end to end: six cells delivered in reverse order, each once")

    if FAILED:
        print(f"\n{len(FAILED)} check(s) FAILED")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
