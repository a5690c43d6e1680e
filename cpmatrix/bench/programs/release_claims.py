"""Release-claims suite: the functions CPython 3.14's "What's New" says got faster, measured with
pyperf (``b16decode``, ``uuid3``/``uuid5`` at the name sizes the claim names, ``uuid4``).

Run by the interpreter under test with pyperf on its path. The claims themselves, with their
wording and source, are data on the host (``cpmatrix/bench/claims.py``); the benchmark names
here are the ones that data refers to.
"""

from __future__ import annotations

import base64
import uuid

import pyperf  # type: ignore[import-not-found,unused-ignore]

B16_SIZES = {"16B": 16, "4KiB": 4096}
"""Decoded sizes: a short string, where per-call overhead dominates, and a longer one."""
NAME_SIZES = {"16B": 16, "1024B": 1024}
"""The name sizes the uuid3/uuid5 claim quotes."""


def main() -> None:
    runner = pyperf.Runner(metadata={"tags": ["release-claims"]})
    for label, size in B16_SIZES.items():
        encoded = base64.b16encode(bytes(range(256)) * (size // 256) + bytes(range(size % 256)))
        runner.bench_func(f"b16decode-{label}", base64.b16decode, encoded)
    for label, size in NAME_SIZES.items():
        name = "n" * size
        runner.bench_func(f"uuid3-{label}", uuid.uuid3, uuid.NAMESPACE_DNS, name)
        runner.bench_func(f"uuid5-{label}", uuid.uuid5, uuid.NAMESPACE_DNS, name)
    runner.bench_func("uuid4", uuid.uuid4)


if __name__ == "__main__":
    main()
