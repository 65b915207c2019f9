"""Write an output under a temporary name beside it and move it into place only when whole."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(dst: str | Path) -> Iterator[Path]:
    """Yield a temporary path in `dst`'s folder; on success rename it to `dst`, else delete it.

    The same folder keeps the rename atomic (one filesystem), so a reader never sees half
    a file and a step that dies midway leaves nothing that looks finished.
    """
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
