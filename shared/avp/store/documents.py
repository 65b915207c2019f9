"""What the repository adapters share. Field-level differences between two versions of a document:
a repository writes only what an aggregate changed, so writers of disjoint parts (two languages of
one job) never overwrite each other, in or out of a transaction. And the rules of a collection
that both adapters apply alike."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avp.errors import NotFound

MISSING = object()


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any], depth: int = 3,
                  prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """{field path: new value} for every leaf that differs, descending `depth` levels into maps;
    a field gone from `new` maps to MISSING."""
    out: dict[tuple[str, ...], Any] = {}
    for key in set(old) | set(new):
        before, after = old.get(key, MISSING), new.get(key, MISSING)
        path = (*prefix, key)
        if isinstance(before, Mapping) and isinstance(after, Mapping) and depth > 1:
            out.update(changed_paths(before, after, depth - 1, path))
        elif before is MISSING or after is MISSING or before != after:
            out[path] = after
    return out


def apply_paths(doc: dict[str, Any], paths: Mapping[tuple[str, ...], Any]) -> dict[str, Any]:
    """`doc` with `paths` written into it (a copy; nested maps created as needed)."""
    import copy

    result = copy.deepcopy(doc)
    for path, value in paths.items():
        node = result
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if value is MISSING:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(value)
    return result


class RepositoryCommon:
    """What both repository adapters (Firestore, memory) do alike: where a record of their
    collection lives, whether its kind may be written, and the reads made of other reads."""

    _kind: Any
    _collection: str
    _group: bool

    def _path(self, record_id: str) -> str:
        if self._group:
            raise TypeError(f"a group of {self._kind.__name__} records is read only")
        return f"{self._collection}/{record_id}"

    def _writable(self) -> None:
        if self._kind.READ_ONLY:
            raise TypeError(self._kind.READ_ONLY)

    def get(self, record_id: str) -> Any:
        found = self.lookup(record_id)  # type: ignore[attr-defined]
        if found is None:
            raise NotFound(f"{self._kind.NOUN} not found")
        return found

    def first(self, *filters: Any) -> Any:
        found = self.where(*filters, limit=1)  # type: ignore[attr-defined]
        return found[0] if found else None


class TrackVersionsCommon:
    """A track repository's versions, over its `_versions` records repository (either adapter)."""

    def add_version(self, job_id: str, version: Any) -> None:
        self._versions(job_id, version.language, version.kind).add(version)  # type: ignore[attr-defined]

    def version(self, job_id: str, language: str, kind: str, n: int) -> Any:
        found = self._versions(job_id, language, kind).lookup(str(n))  # type: ignore[attr-defined]
        if found is None:
            raise NotFound(f"{language} has no {kind} version {n}")
        return found
