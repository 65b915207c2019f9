"""Variable scopes with the Workflows rules.

A subworkflow call starts a fresh scope. A `for` body gets a child scope: variables first
assigned there vanish after the loop, variables from outside stay writable. A parallel
branch or iteration gets an isolated child scope: it reads everything outside but may
write only the variables listed in `shared`.
"""
from __future__ import annotations

import copy
from typing import Any

from avp.local.workflows.errors import DefinitionError, WorkflowError


class Scope:
    """One level of variables; reading walks outwards, as the evaluator expects of a mapping."""

    def __init__(self, parent: Scope | None = None, *, shared: frozenset[str] | None = None):
        self.parent = parent
        self.shared = shared  # not None only at a parallel branch's boundary
        self.variables: dict[str, Any] = {}

    def __contains__(self, name: object) -> bool:
        return self._owner(str(name)) is not None

    def __getitem__(self, name: str) -> Any:
        owner = self._owner(name)
        if owner is None:
            raise KeyError(name)
        return owner.variables[name]

    def _owner(self, name: str) -> Scope | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.variables:
                return scope
            scope = scope.parent
        return None

    def define(self, name: str, value: Any) -> None:
        """Create or overwrite `name` in this very scope (loop variables, parameters)."""
        self.variables[name] = value

    def assign(self, name: str, value: Any) -> None:
        """Assign where `name` already lives, else create it here; enforces `shared`."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.variables:
                scope.variables[name] = value
                return
            if scope.shared is not None and name not in scope.shared:
                if scope.parent is not None and name in scope.parent:
                    raise DefinitionError(
                        f"variable {name!r} of the enclosing scope is assigned in a parallel branch "
                        "but is not listed in 'shared'"
                    )
                break
            scope = scope.parent
        self.variables[name] = value

    def assign_path(self, name: str, path: list[Any], value: Any) -> None:
        """`name.a["b"][0] = value`, copying the variable first: workflow values are values, not references."""
        if not path:
            self.assign(name, value)
            return
        if name not in self:
            raise WorkflowError.tagged("KeyError", f"variable {name!r} is not defined")
        root = copy.deepcopy(self[name])
        container = root
        for depth, key in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(container, dict):
                if not isinstance(key, str):
                    raise WorkflowError.tagged("TypeError", f"map keys must be strings, got {key!r} in {name!r}")
                if last:
                    container[key] = value
                else:
                    # Assigning below a missing key creates the maps on the way, as in the cloud.
                    container = container.setdefault(key, {})
            elif isinstance(container, list):
                if not isinstance(key, int) or isinstance(key, bool):
                    raise WorkflowError.tagged("TypeError", f"list index must be an integer, got {key!r} in {name!r}")
                if not -len(container) <= key < len(container):
                    raise WorkflowError.tagged("IndexError", f"list index {key} out of range in {name!r}")
                if last:
                    container[key] = value
                else:
                    container = container[key]
            else:
                raise WorkflowError.tagged("TypeError", f"cannot assign into a value that is not a map or list in {name!r}")
        self.assign(name, root)
