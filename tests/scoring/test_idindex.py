"""The labels' id index: hashing ignores padding, lookups are exact, alignment finds permutations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from scoring._idindex import IdIndex, hash_strings


def test_hash_ignores_the_width_of_the_batch() -> None:
    alone = hash_strings(pa.array(["TEST_001"]))
    mixed = hash_strings(pa.array(["TEST_001", "\x00TEST_000", "a much longer identifier, 40 bytes long"]))
    assert alone is not None and mixed is not None and alone[0] == mixed[0]
    assert len(set(hash_strings(pa.array(["a", "b", "", "ab", "ba", "a\x00", "한"])).tolist())) == 7
    assert hash_strings(pa.array(["x" * 65])) is None


def test_lookup_is_exact_for_every_kind_of_id() -> None:
    ids = pa.array([str(i) for i in range(1000)] + ["TEST_1", "한글", ""])
    index = IdIndex(ids)
    probe = pa.array(["5", "999", "1000", "TEST_1", "한글", "", "05", "x" * 100])
    assert index.lookup(probe).tolist() == [5, 999, -1, 1000, 1001, 1002, -1, -1]
    assert index.position("한글") == 1001 and index.position("nope") is None
    long_ids = IdIndex(pa.array(["y" * 100, "z" * 100]))  # not hashed: pyarrow's index_in decides
    assert long_ids.lookup(pa.array(["z" * 100, "q"])).tolist() == [1, -1]


def test_align() -> None:
    ids = pa.array([f"ID_{i}" for i in range(5000)])
    index = IdIndex(ids)
    perm = np.random.default_rng(0).permutation(5000)
    ok, order = index.align(pa.chunked_array([ids.take(pa.array(perm))]))
    assert ok and order is not None and np.array_equal(perm[order], np.arange(5000))
    assert index.align(pa.chunked_array([ids[:2500], ids[2500:]])) == (True, None)
    twice = pa.chunked_array([ids[:4999], ids[:1]])
    assert index.align(twice)[0] is False
    assert index.align(pa.chunked_array([ids[:10]]))[0] is False
