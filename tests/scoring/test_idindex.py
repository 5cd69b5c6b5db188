"""The labels' id index: hashing ignores padding, lookups are exact, alignment finds permutations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from scoring import _idindex
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


# Hashes that collide on purpose (the seam: the module-level `hash_strings`, used both to build
# the table and to look ids up). Each keeps the real hash's contract: uint64 per id, None if too long.
def _constant(h: np.ndarray) -> np.ndarray:
    return np.zeros_like(h)  # every id collides with every other: slot, step and fingerprint


def _four_values(h: np.ndarray) -> np.ndarray:
    return h % np.uint64(4)  # one slot (top bits 0), four fingerprints: long probe chains


def _one_slot(h: np.ndarray) -> np.ndarray:
    return h | np.uint64(0xFFFF_0000_0000_0000)  # same first slot, distinct fingerprints and steps


def _top_bits_only(h: np.ndarray) -> np.ndarray:
    return h & np.uint64(0xFFFF_FFFF_0000_0000)  # spread slots, fingerprint 0 for all


COLLIDING = {"constant": _constant, "four_values": _four_values, "one_slot": _one_slot,
             "top_bits_only": _top_bits_only, "real": lambda h: h}


def _id_sets() -> dict[str, list[str]]:
    return {
        "fixed_width": [f"ID_{i:04d}" for i in range(300)],  # one width: numpy compares the bytes
        "mixed_width": [str(i) for i in range(150)] + ["TEST_1", "한글", "", "a\x00", "x" * 64],
    }


def _absent(present: list[str]) -> list[str]:
    known = set(present)
    near = [p + "0" for p in present[:40]] + [p[:-1] for p in present[:40] if p] + ["ID_9999", "nope", "x" * 63]
    return [a for a in dict.fromkeys(near) if a not in known]


@pytest.mark.parametrize("kind", sorted(_id_sets()))
@pytest.mark.parametrize("name", sorted(COLLIDING))
def test_lookup_is_exact_when_hashes_collide(monkeypatch: pytest.MonkeyPatch, name: str, kind: str) -> None:
    real = _idindex.hash_strings
    calls = []

    def colliding(array: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
        calls.append(len(array))
        h = real(array)
        return None if h is None else COLLIDING[name](h)

    monkeypatch.setattr(_idindex, "hash_strings", colliding)
    present = _id_sets()[kind]
    absent = _absent(present)
    index = IdIndex(pa.array(present, type=pa.string()))
    assert index._table is not None and calls, "the table is built from the colliding hash"
    if name == "constant":  # the seam works: every id shares one hash
        assert len(set(colliding(pa.array(present + absent)).tolist())) == 1

    # Every present id at its index, every absent one (colliding with present ones) not found.
    rng = np.random.default_rng(7)
    probe = [present[i] for i in rng.permutation(len(present))] + absent
    rng.shuffle(probe)
    expected = [present.index(p) if p in present else -1 for p in probe]
    assert index.lookup(pa.array(probe, type=pa.string())).tolist() == expected
    assert all(index.position(p) == i for i, p in enumerate(present))
    assert all(index.position(a) is None for a in absent)

    # Alignment: a permutation is found; a repeated or an unknown id is detected.
    perm = rng.permutation(len(present))
    ok, order = index.align(pa.chunked_array([pa.array([present[i] for i in perm], type=pa.string())]))
    assert ok and order is not None and np.array_equal(perm[order], np.arange(len(present)))
    repeated = [present[i] for i in perm]
    repeated[-1] = repeated[0]
    assert index.align(pa.chunked_array([pa.array(repeated, type=pa.string())])) == (False, None)
    unknown = [present[i] for i in perm]
    unknown[len(unknown) // 2] = absent[0]
    assert index.align(pa.chunked_array([pa.array(unknown, type=pa.string())])) == (False, None)
    duplicates = index.lookup(pa.array([present[3], present[3], absent[0], absent[0]], type=pa.string()))
    assert duplicates.tolist() == [3, 3, -1, -1]


def test_real_hash_collides_in_a_small_table_and_lookups_stay_exact() -> None:
    # 7 ids in a 16-slot table: some share a first slot (found by the test, not assumed).
    present = [f"T{i}" for i in range(7)]
    index = IdIndex(pa.array(present))
    assert index._table is not None and len(index._table) == 16
    hashes = hash_strings(pa.array(present))
    assert hashes is not None
    slots = (hashes >> np.uint64(60)).tolist()
    assert len(set(slots)) < len(slots), "expected two ids on one first slot in a 16-slot table"
    absent = [f"T{i}" for i in range(7, 200)]
    probe = present[::-1] + absent
    assert index.lookup(pa.array(probe)).tolist() == list(range(6, -1, -1)) + [-1] * len(absent)
