#!/usr/bin/env python3
"""Known-answer values for transport/link_cookie (docs/proposals/0004 §6.1-6.5).

A second implementation, independent of libsodium: BLAKE2b from hashlib,
ChaCha20 and Poly1305 from tests/vectors/wide_block_cells.py (pure Python,
RFC 8439), HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03)
here. Both are checked against the draft's test vectors first.

Run: python3 tests/transport/link_cookie_vectors.py
It prints the constants that tests/transport/link_cookie_test.cpp holds, and
tests/fuzz/corpus/transport_cookie_reply/valid_reply.bin when given --corpus DIR.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
from wide_block_cells import M32, chacha20, chacha20_block, kdf, poly1305  # noqa: E402

import hashlib  # noqa: E402


def hchacha20(key, nonce16):
    """draft-irtf-cfrg-xchacha §2.2: the ChaCha20 rounds without the final addition,
    words 0-3 and 12-15. Recovered from a full block by subtracting the input state."""
    counter = struct.unpack("<I", nonce16[:4])[0]
    block = struct.unpack("<16I", chacha20_block(key, counter, nonce16[4:]))
    state = ([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
             + list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16)))
    words = [(block[i] - state[i]) & M32 for i in (0, 1, 2, 3, 12, 13, 14, 15)]
    return struct.pack("<8I", *words)


def _pad16(data):
    return bytes(-len(data) % 16)


def xaead_seal(key, nonce24, ad, plaintext):
    """XChaCha20-Poly1305 IETF: RFC 8439 §2.8 under HChaCha20(key, nonce[0:16])
    with the nonce 0^4 || nonce[16:24]. Returns ciphertext || tag."""
    subkey = hchacha20(key, nonce24[:16])
    nonce12 = bytes(4) + nonce24[16:]
    one_time_key = chacha20_block(subkey, 0, nonce12)[:32]
    keystream = chacha20(subkey, nonce12, 1, len(plaintext))
    ciphertext = bytes(p ^ k for p, k in zip(plaintext, keystream))
    mac_data = (ad + _pad16(ad) + ciphertext + _pad16(ciphertext)
                + struct.pack("<QQ", len(ad), len(ciphertext)))
    return ciphertext + poly1305(one_time_key, mac_data)


def blake2b_16(key, message):
    return hashlib.blake2b(message, digest_size=16, key=key).digest()


def self_test():
    sub = hchacha20(bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927"))
    assert sub.hex() == "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc", \
        "xchacha draft 2.2.1"
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    sealed = xaead_seal(bytes(range(0x80, 0xA0)), bytes(range(0x40, 0x58)),
                        bytes.fromhex("50515253c0c1c2c3c4c5c6c7"), pt)
    assert sealed.hex() == (
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
        "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
        "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
        "21f9664c97637da9768812f615c68b13b52e"
        "c0875924c1c7987947deafd8780acf49"), "xchacha draft A.3.1"


# The fixed inputs; link_cookie_test.cpp and the fuzz target build the same.
RESPONDER_KEY = bytes(range(32))                                     # S
INIT_COVERED = (bytes([1, 0, 0, 0]) + struct.pack(">I", 0x01020304)
                + bytes(0x40 + i for i in range(48)))                # datagram[0:56]
REPLY_NONCE = bytes(range(0x80, 0x98))                               # 24 bytes
COOKIE = bytes(range(0xA0, 0xB0))                                    # 16 bytes
RECEIVER_INDEX = 0x01020304


def main():
    self_test()
    mac1_key = kdf(RESPONDER_KEY, "link-mac1", 32)
    cookie_key = kdf(RESPONDER_KEY, "link-cookie", 32)
    mac1 = blake2b_16(mac1_key, INIT_COVERED)
    reply = (bytes([6, 0, 0, 0]) + struct.pack(">I", RECEIVER_INDEX) + REPLY_NONCE
             + xaead_seal(cookie_key, REPLY_NONCE, mac1, COOKIE))
    assert len(reply) == 64
    mac2 = blake2b_16(COOKIE, INIT_COVERED + mac1)
    for name, value in (("mac1_key", mac1_key), ("cookie_key", cookie_key), ("mac1", mac1),
                        ("cookie_reply", reply), ("mac2", mac2)):
        print(f"{name} = {value.hex()}")
    if len(sys.argv) == 3 and sys.argv[1] == "--corpus":
        with open(os.path.join(sys.argv[2], "valid_reply.bin"), "wb") as f:
            f.write(reply)


if __name__ == "__main__":
    main()
