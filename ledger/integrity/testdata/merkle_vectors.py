#!/usr/bin/env python3
"""Test vectors for ledger/integrity/merkle_test.cc, computed independently of
the C++ code, straight from the definitions of RFC 9162 section 2.1 (MTH, PATH,
PROOF), with Python's hashlib. Leaves: the eight leaves of the Certificate
Transparency test suite (hex). Run it and paste its output into the test.
"""
import hashlib

LEAVES = [bytes.fromhex(h) for h in
          ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
           "606162636465666768696a6b6c6d6e6f"]]


def sha(data):
    return hashlib.sha256(data).digest()


def k_of(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = k_of(len(d))
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_of(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


for n in range(0, 9):
    print(f'{{{n}, "{mth(LEAVES[:n]).hex()}"}},')
for m, n in [(0, 1), (3, 5), (5, 8), (7, 8), (0, 8)]:
    print("path", m, n, [h.hex() for h in path(m, LEAVES[:n])])
for m, n in [(1, 1), (1, 8), (6, 8), (2, 5), (3, 7), (4, 7)]:
    print("proof", m, n, [h.hex() for h in subproof(m, LEAVES[:n], True)])
