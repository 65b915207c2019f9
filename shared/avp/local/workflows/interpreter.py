"""Runs a Cloud Workflows definition (the subset avp uses) on this machine.

Steps: `assign`, `call` (`http.*` to loopback, `sys.log`, `sys.sleep`, subworkflows and
pluggable connectors), `switch`, `for` (also `parallel`), parallel `branches`,
`try`/`retry`/`except`, `raise`, `return`, `steps` and `next`. Anything else raises
`UnsupportedConstruct` naming it and its step, so a workflow never half-runs silently.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from avp.local.workflows.errors import DefinitionError, UnsupportedConstruct, WorkflowError
from avp.local.workflows.expr import Evaluator, is_expression, is_number, parse_target, type_name
from avp.local.workflows.http_calls import HTTP_CALLS, http_call
from avp.local.workflows.retry import RETRY_BUILTINS, RetryPolicy
from avp.local.workflows.runtime import Connector, Runtime
from avp.local.workflows.scope import Scope
from avp.local.workflows.stdlib import standard_functions

_STEP_KEYS = {"assign", "call", "args", "result", "switch", "for", "parallel", "raise", "try", "retry", "except", "return", "steps", "next"}
_PARALLEL_KEYS = {"exception_policy", "shared", "concurrency_limit", "branches", "for"}
_FOR_KEYS = {"value", "index", "in", "range", "steps"}
# A long list in a parallel for must not start hundreds of threads on a small machine.
_MAX_PARALLEL_THREADS = 20


class _Jump(Exception):
    """`next:` to a step outside the current step list, or `end` / `break` / `continue`."""

    def __init__(self, target: str):
        self.target = target


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


@dataclass(frozen=True)
class _Param:
    name: str
    default: Any
    required: bool


@dataclass(frozen=True)
class _Subworkflow:
    name: str
    params: tuple[_Param, ...]
    steps: list[Any]


def _subworkflows(definition: Any) -> dict[str, _Subworkflow]:
    if isinstance(definition, list):  # a bare step list is the main workflow
        definition = {"main": {"steps": definition}}
    if not isinstance(definition, dict) or "main" not in definition:
        raise DefinitionError("a workflow needs a 'main' block or a list of steps")
    result: dict[str, _Subworkflow] = {}
    for name, body in definition.items():
        if not isinstance(body, dict) or not isinstance(body.get("steps"), list):
            raise DefinitionError(f"subworkflow {name!r} needs a list of 'steps'")
        unknown = set(body) - {"params", "steps"}
        if unknown:
            raise UnsupportedConstruct(f"{sorted(unknown)} in subworkflow {name!r}")
        params: list[_Param] = []
        for param in body.get("params", []):
            if isinstance(param, str):
                params.append(_Param(param, None, True))
            elif isinstance(param, dict) and len(param) == 1:
                [(param_name, default)] = param.items()
                params.append(_Param(param_name, default, False))
            else:
                raise DefinitionError(f"bad parameter {param!r} of subworkflow {name!r}")
        result[name] = _Subworkflow(name, tuple(params), body["steps"])
    return result


def _single_step(entry: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise DefinitionError(f"each step must be a map with one step name, got {entry!r}")
    [(name, body)] = entry.items()
    if not isinstance(body, dict):
        raise DefinitionError(f"step {name!r} must be a map")
    return name, body


class Interpreter:
    """Runs one workflow definition; one instance serves one execution (it holds its runtime)."""

    def __init__(self, definition: Any, *, connectors: Mapping[str, Connector] | None = None, runtime: Runtime | None = None):
        self.subworkflows = _subworkflows(definition)
        self.connectors = dict(connectors or {})
        self.runtime = runtime or Runtime()
        self.builtins: dict[str, Any] = {**standard_functions(self.runtime.env), **RETRY_BUILTINS}
        for name in self.subworkflows:
            if name != "main":
                self.builtins[name] = self._expression_call(name)
        # Each assignment (evaluate, then write) is atomic, as the platform promises for shared variables.
        self._assign_lock = threading.RLock()

    def run(self, argument: Any = None) -> Any:
        """Run `main` with `argument` bound to its parameter; the workflow's return value."""
        main = self.subworkflows["main"]
        if len(main.params) > 1:
            raise DefinitionError("main takes at most one parameter")
        args = {main.params[0].name: argument} if main.params else {}
        return self.call_subworkflow("main", args)

    def call_subworkflow(self, name: str, args: Mapping[str, Any]) -> Any:
        """Run a subworkflow with named arguments in a fresh scope; its return value."""
        subworkflow = self.subworkflows[name]
        unknown = set(args) - {param.name for param in subworkflow.params}
        if unknown:
            raise WorkflowError.tagged("TypeError", f"{name}() got unexpected arguments {sorted(unknown)}")
        scope = Scope()
        for param in subworkflow.params:
            if param.name in args:
                scope.define(param.name, args[param.name])
            elif param.required:
                raise WorkflowError.tagged("TypeError", f"{name}() is missing the argument {param.name!r}")
            else:
                scope.define(param.name, param.default)
        try:
            self._run_steps(subworkflow.steps, scope)
        except _Return as returned:
            return returned.value
        except _Jump as jump:
            if jump.target != "end":
                raise DefinitionError(f"'next: {jump.target}' in {name!r} names no step it can reach") from None
        return None

    def _expression_call(self, name: str) -> Callable[..., Any]:
        def call(*values: Any) -> Any:
            params = self.subworkflows[name].params
            if len(values) > len(params):
                raise WorkflowError.tagged("TypeError", f"{name}() takes {len(params)} arguments, got {len(values)}")
            return self.call_subworkflow(name, {param.name: value for param, value in zip(params, values, strict=False)})

        return call

    def _evaluator(self, scope: Scope) -> Evaluator:
        return Evaluator(scope, self.builtins)

    def _run_steps(self, steps: list[Any], scope: Scope) -> None:
        parsed = [_single_step(entry) for entry in steps]
        positions = {name: index for index, (name, _) in enumerate(parsed)}
        index = 0
        while index < len(parsed):
            name, body = parsed[index]
            self.runtime.check_cancelled()
            try:
                target = self._run_step(name, body, scope)
            except _Jump as jump:
                if jump.target not in positions:
                    raise
                target = jump.target
            if target is None:
                index += 1
            elif target in positions:
                index = positions[target]
            else:
                raise _Jump(target)

    def _run_step(self, name: str, body: dict[str, Any], scope: Scope) -> str | None:
        """Run one step; the name of the step to go to next, or None to go on in order."""
        unknown = set(body) - _STEP_KEYS
        if unknown:
            raise UnsupportedConstruct(f"{sorted(unknown)} in step {name!r}")
        if "try" in body:
            jump = self._try(name, body, scope)
            return jump or body.get("next")
        if "switch" in body:
            return self._switch(name, body, scope)
        if "assign" in body:
            self._assign(name, body["assign"], scope)
        if "call" in body:
            self._call(name, body, scope)
        elif "args" in body or "result" in body:
            raise DefinitionError(f"'args' and 'result' need a 'call' in step {name!r}")
        if "for" in body:
            self._for(name, body["for"], scope)
        if "parallel" in body:
            self._parallel(name, body["parallel"], scope)
        if "steps" in body:
            self._run_steps(body["steps"], scope)
        if "raise" in body:
            raise WorkflowError(self._evaluator(scope).resolve(body["raise"]))
        if "return" in body:
            raise _Return(self._evaluator(scope).resolve(body["return"]))
        if "retry" in body or "except" in body:
            raise DefinitionError(f"'retry' and 'except' need a 'try' in step {name!r}")
        return body.get("next")

    def _assign(self, name: str, items: Any, scope: Scope) -> None:
        if not isinstance(items, list):
            raise DefinitionError(f"'assign' in step {name!r} must be a list")
        for item in items:
            if not isinstance(item, dict) or len(item) != 1:
                raise DefinitionError(f"each assignment in step {name!r} must be a map with one entry")
            [(target, value)] = item.items()
            self._store(str(target), value, scope, evaluate=True)

    def _store(self, target: str, value: Any, scope: Scope, *, evaluate: bool) -> None:
        variable, path_nodes = parse_target(target)
        with self._assign_lock:
            evaluator = self._evaluator(scope)
            path = [evaluator.evaluate(node, target) for node in path_nodes]
            scope.assign_path(variable, path, evaluator.resolve(value) if evaluate else value)

    def _call(self, name: str, body: dict[str, Any], scope: Scope) -> None:
        target = body["call"]
        args = self._evaluator(scope).resolve(body.get("args") or {})
        if not isinstance(args, dict):
            raise DefinitionError(f"'args' of step {name!r} must be a map")
        result = self._invoke(name, target, args)
        if "result" in body:
            self._store(str(body["result"]), result, scope, evaluate=False)

    def _invoke(self, step: str, target: str, args: dict[str, Any]) -> Any:
        if target == "sys.log":
            self._log(args)
            return None
        if target == "sys.sleep":
            seconds = args.get("seconds")
            if not is_number(seconds):
                raise WorkflowError.tagged("TypeError", f"sys.sleep needs a number of seconds in step {step!r}")
            self.runtime.pause(float(seconds))
            return None
        if target in HTTP_CALLS or target == "http.request":
            return http_call(target, args)
        if target in self.subworkflows and target != "main":
            return self.call_subworkflow(target, args)
        if target in self.connectors:
            return self.connectors[target](args, self.runtime.context(target, step))
        raise UnsupportedConstruct(f"call {target!r} in step {step!r}")

    def _log(self, args: dict[str, Any]) -> None:
        if "text" in args:
            text = args["text"] if isinstance(args["text"], str) else json.dumps(args["text"])
        else:
            text = json.dumps(args.get("data"))
        self.runtime.log(text, str(args.get("severity", "INFO")))

    def _switch(self, name: str, body: dict[str, Any], scope: Scope) -> str | None:
        conditions = body["switch"]
        if not isinstance(conditions, list):
            raise DefinitionError(f"'switch' in step {name!r} must be a list")
        for clause in conditions:
            if not isinstance(clause, dict) or "condition" not in clause:
                raise DefinitionError(f"every switch clause in step {name!r} needs a 'condition'")
            matched = self._evaluator(scope).resolve(clause["condition"])
            if not isinstance(matched, bool):
                raise WorkflowError.tagged("TypeError", f"switch condition in step {name!r} gave a {type_name(matched)}, not a boolean")
            if matched:
                action = {key: value for key, value in clause.items() if key != "condition"}
                jump = self._run_step(name, action, scope) if action else None
                return jump or body.get("next")
        return body.get("next")

    def _try(self, name: str, body: dict[str, Any], scope: Scope) -> str | None:
        policy = self._retry_policy(name, body.get("retry"), scope)
        delays = policy.delays() if policy else []
        attempt = 0
        while True:
            try:
                block = body["try"]
                if isinstance(block, list):
                    self._run_steps(block, scope)
                    return None
                return self._run_step(name, block, scope)
            except WorkflowError as failure:
                if attempt < len(delays) and self._should_retry(name, policy, failure):
                    self.runtime.log(f"step {name!r} failed ({failure}); retry {attempt + 1} in {delays[attempt]:g}s", "WARNING")
                    self.runtime.pause(delays[attempt])
                    attempt += 1
                    continue
                handler = body.get("except")
                if handler is None:
                    raise
                if not isinstance(handler, dict) or not isinstance(handler.get("steps"), list):
                    raise DefinitionError(f"'except' in step {name!r} needs 'steps'") from None
                if "as" in handler:
                    scope.assign(str(handler["as"]), failure.value)
                self._run_steps(handler["steps"], scope)
                return None

    def _should_retry(self, name: str, policy: RetryPolicy | None, failure: WorkflowError) -> bool:
        if policy is None:
            return False
        verdict = policy.predicate(failure.value)
        if not isinstance(verdict, bool):
            raise WorkflowError.tagged("TypeError", f"retry predicate of step {name!r} returned a {type_name(verdict)}, not a boolean")
        return verdict

    def _retry_policy(self, name: str, spec: Any, scope: Scope) -> RetryPolicy | None:
        if spec is None:
            return None
        if is_expression(spec):
            policy = self._evaluator(scope).evaluate_text(spec)
            if not isinstance(policy, RetryPolicy):
                raise DefinitionError(f"retry {spec!r} of step {name!r} is not a retry policy")
            return policy
        if not isinstance(spec, dict):
            raise DefinitionError(f"'retry' of step {name!r} must be a map or a policy expression")
        predicate_text = spec.get("predicate")
        if not is_expression(predicate_text):
            raise DefinitionError(f"retry of step {name!r} needs a 'predicate' expression")
        predicate = self._evaluator(scope).evaluate_text(predicate_text)
        if not callable(predicate):
            raise DefinitionError(f"retry predicate {predicate_text!r} of step {name!r} is not a subworkflow or built-in")
        backoff = spec.get("backoff") or {}
        return RetryPolicy(
            predicate=predicate,
            max_retries=int(self._evaluator(scope).resolve(spec.get("max_retries", 0))),
            initial_delay=float(backoff.get("initial_delay", 1)),
            max_delay=float(backoff.get("max_delay", 60)),
            multiplier=float(backoff.get("multiplier", 1.25)),
        )

    def _loop_items(self, name: str, spec: dict[str, Any], scope: Scope) -> list[Any]:
        unknown = set(spec) - _FOR_KEYS
        if unknown:
            raise UnsupportedConstruct(f"{sorted(unknown)} in the 'for' of step {name!r}")
        if not isinstance(spec.get("value"), str) or not isinstance(spec.get("steps"), list):
            raise DefinitionError(f"'for' in step {name!r} needs 'value' and 'steps'")
        evaluator = self._evaluator(scope)
        if "in" in spec:
            items = evaluator.resolve(spec["in"])
            if not isinstance(items, list):
                raise WorkflowError.tagged("TypeError", f"'for ... in' of step {name!r} needs a list, got {type_name(items)}")
            return items
        if "range" not in spec:
            raise DefinitionError(f"'for' in step {name!r} needs 'in' or 'range'")
        bounds = evaluator.resolve(spec["range"])
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(type_name(b) in ("integer", "double") for b in bounds)):
            raise WorkflowError.tagged("TypeError", f"'range' of step {name!r} needs two numbers")
        start, stop = bounds
        count = int(stop - start) + 1 if stop >= start else 0
        return [start + offset for offset in range(count)]

    def _iteration_scope(self, spec: dict[str, Any], scope: Scope, position: int, item: Any, shared: frozenset[str] | None) -> Scope:
        child = Scope(scope, shared=shared)
        child.define(spec["value"], item)
        if "index" in spec:
            child.define(str(spec["index"]), position)
        return child

    def _for(self, name: str, spec: Any, scope: Scope) -> None:
        if not isinstance(spec, dict):
            raise DefinitionError(f"'for' in step {name!r} must be a map")
        for position, item in enumerate(self._loop_items(name, spec, scope)):
            try:
                self._run_steps(spec["steps"], self._iteration_scope(spec, scope, position, item, None))
            except _Jump as jump:
                if jump.target == "break":
                    return
                if jump.target != "continue":
                    raise

    def _parallel(self, name: str, spec: Any, scope: Scope) -> None:
        if not isinstance(spec, dict):
            raise DefinitionError(f"'parallel' in step {name!r} must be a map")
        unknown = set(spec) - _PARALLEL_KEYS
        if unknown:
            raise UnsupportedConstruct(f"{sorted(unknown)} in the 'parallel' of step {name!r}")
        if spec.get("exception_policy", "continueAll") != "continueAll":
            raise UnsupportedConstruct(f"exception_policy {spec['exception_policy']!r} in step {name!r}")
        shared = frozenset(spec.get("shared") or [])
        missing = sorted(variable for variable in shared if variable not in scope)
        if missing:
            raise DefinitionError(f"shared variables {missing} of step {name!r} must be assigned before the parallel step")
        tasks = self._branch_tasks(name, spec, scope, shared)
        limit = self._evaluator(scope).resolve(spec.get("concurrency_limit", len(tasks)))
        if type_name(limit) != "integer" or limit < 1:
            raise WorkflowError.tagged("ValueError", f"concurrency_limit of step {name!r} must be a positive integer")
        workers = max(1, min(limit, len(tasks), _MAX_PARALLEL_THREADS))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"wf-{name}") as pool:
            futures = [(branch_id, pool.submit(task)) for branch_id, task in tasks]
        failures: list[dict[str, Any]] = []
        for branch_id, future in futures:
            problem = future.exception()
            if isinstance(problem, WorkflowError):
                failures.append({"id": branch_id, "error": problem.value})
            elif problem is not None:
                raise problem
        if failures:
            raise WorkflowError(
                {
                    "message": f"{len(failures)} branch(es) of parallel step {name!r} raised an unhandled error",
                    "tags": ["UnhandledBranchError"],
                    "branches": failures,
                    "truncated": False,
                }
            )

    def _branch_tasks(self, name: str, spec: dict[str, Any], scope: Scope, shared: frozenset[str]) -> list[tuple[str, Callable[[], None]]]:
        if ("branches" in spec) == ("for" in spec):
            raise DefinitionError(f"'parallel' in step {name!r} needs exactly one of 'branches' and 'for'")
        if "branches" in spec:
            tasks = []
            for entry in spec["branches"]:
                branch, body = _single_step(entry)
                if set(body) != {"steps"}:
                    raise UnsupportedConstruct(f"branch {branch!r} of step {name!r} must hold only 'steps'")
                tasks.append((branch, self._branch(name, body["steps"], Scope(scope, shared=shared))))
            return tasks
        loop = spec["for"]
        items = self._loop_items(name, loop, scope)
        return [
            (str(position), self._branch(name, loop["steps"], self._iteration_scope(loop, scope, position, item, shared)))
            for position, item in enumerate(items)
        ]

    def _branch(self, name: str, steps: list[Any], scope: Scope) -> Callable[[], None]:
        def run() -> None:
            try:
                self._run_steps(steps, scope)
            except _Jump as jump:
                if jump.target != "continue":
                    raise UnsupportedConstruct(f"'next: {jump.target}' leaving a parallel branch of step {name!r}") from None
            except _Return:
                raise UnsupportedConstruct(f"'return' inside a parallel branch of step {name!r}") from None

        return run
