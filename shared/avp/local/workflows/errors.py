"""The error kinds of the local workflow executor.

`WorkflowError` is what a workflow itself can see and catch (`try`/`except`): it carries
the same error map Cloud Workflows builds (`message`, `tags`, and for HTTP errors `code`,
`headers`, `body`). Everything else here stops the execution outright, the way a deploy
error or a cancellation does in the cloud.
"""
from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """An error raised inside a workflow; `value` is the map (or string) the workflow sees."""

    def __init__(self, value: Any):
        self.value = value
        super().__init__(value.get("message", value) if isinstance(value, dict) else value)

    @classmethod
    def tagged(cls, tag: str, message: str, **extra: Any) -> WorkflowError:
        """An error map like the platform's built-in ones: `{message, tags: [tag], ...extra}`."""
        return cls({"message": message, "tags": [tag], **extra})

    @property
    def tags(self) -> list[str]:
        """The error's tags; a raised string has none."""
        return list(self.value.get("tags") or []) if isinstance(self.value, dict) else []


class DefinitionError(Exception):
    """The workflow text is wrong (bad expression, unknown step, ...): a deploy error in the cloud."""


class ExpressionSyntaxError(DefinitionError):
    """An expression does not parse; the message names the construct and the position."""


class UnsupportedConstruct(DefinitionError):
    """A construct the local executor does not implement, named together with its step."""


class ExecutionCancelled(Exception):
    """The execution was cancelled; raised at the next step boundary or from a waiting call."""
