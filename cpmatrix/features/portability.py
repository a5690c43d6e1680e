"""What a portable Linux artifact may take from the host it runs on.

Everything else it needs travels inside it. The build container's finish script
(``builders/finish_tree.py``) bundles by this list and the publishing gate
(``artifacts/validate.py``) checks by it; the script gets it as data, since it runs with the
container's python3 and cannot import cpmatrix.
"""

from __future__ import annotations

HOST_LIBRARIES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libgcc_s.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)
"""glibc's libraries, the loader and libgcc_s: every glibc system has them (python-build-standalone
allows the same set)."""
