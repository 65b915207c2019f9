"""Each construct of the local workflow interpreter, run from YAML like the real files."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from avp.local.workflows import CallContext, DefinitionError, UnsupportedConstruct, WorkflowError

# The run_workflow and recorder fixtures come from conftest.py (a module tests cannot import).
RunWorkflow = Any
Recorder = Any


def test_assign_targets_fields_keys_and_indexes(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - m: {"a": {"b": 1}, "l": [1, 2, 3]}
              - copy: ${m}
              - key: "dyn"
              - m.a.b: 2
              - m["a"]["c"]: 3
              - m[key]: ${m.a.b + m.a.c}
              - m.l[1]: 20
              - m.new.deeper: x
        - done:
            return: {"m": "${m}", "copy": "${copy}"}
        """
    )
    assert result["m"] == {"a": {"b": 2, "c": 3}, "l": [1, 20, 3], "dyn": 5, "new": {"deeper": "x"}}
    assert result["copy"] == {"a": {"b": 1}, "l": [1, 2, 3]}  # values, not references


def test_assign_out_of_range_index_is_a_catchable_index_error(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - l: [1]
        - bad:
            try:
              assign:
                - l[5]: 2
            except:
              as: e
              steps:
                - out:
                    return: ${e.tags}
        """
    )
    assert result == ["IndexError"]


def test_switch_next_nested_steps_and_fallthrough(run_workflow: RunWorkflow) -> None:
    source = """
        main:
          params: [n]
          steps:
            - init:
                assign:
                  - trail: []
            - pick:
                switch:
                  - condition: ${n < 0}
                    next: negative
                  - condition: ${n == 0}
                    steps:
                      - zero:
                          assign:
                            - trail: ${list.concat(trail, "zero")}
                  - condition: ${n > 0}
                    assign:
                      - trail: ${list.concat(trail, "positive")}
                next: after
            - negative:
                assign:
                  - trail: ${list.concat(trail, "negative")}
            - after:
                return: ${list.concat(trail, "after")}
        """
    assert run_workflow(source, -1) == ["negative", "after"]
    assert run_workflow(source, 0) == ["zero", "after"]
    assert run_workflow(source, 5) == ["positive", "after"]


def test_switch_condition_must_be_boolean(run_workflow: RunWorkflow) -> None:
    with pytest.raises(WorkflowError) as caught:
        run_workflow("""
            - pick:
                switch:
                  - condition: ${1}
                    next: end
            """)
    assert caught.value.tags == ["TypeError"]


def test_for_in_with_index_break_and_continue(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - seen: []
        - loop:
            for:
              value: v
              index: i
              in: ["a", "skip", "b", "stop", "c"]
              steps:
                - check:
                    switch:
                      - condition: ${v == "skip"}
                        next: continue
                      - condition: ${v == "stop"}
                        next: break
                - record:
                    assign:
                      - seen: ${list.concat(seen, string(i) + v)}
                      - inner: ${v}
        - done:
            return: ${seen}
        """
    )
    assert result == ["0a", "2b"]


def test_variables_first_assigned_in_a_loop_do_not_leak(run_workflow: RunWorkflow) -> None:
    with pytest.raises(WorkflowError) as caught:
        run_workflow(
            """
            - loop:
                for:
                  value: v
                  in: [1]
                  steps:
                    - set:
                        assign:
                          - inner: ${v}
            - use:
                return: ${inner}
            """
        )
    assert caught.value.tags == ["KeyError"]
    assert "inner" in str(caught.value)


def test_for_range_is_inclusive(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - total: 0
              - last: 3
        - loop:
            for:
              value: k
              range: ${[1, last]}
              steps:
                - add:
                    assign:
                      - total: ${total + k}
        - done:
            return: ${total}
        """
    )
    assert result == 6


def test_parallel_branches_write_shared_variables_and_read_outer_ones(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - base: 10
              - out: {}
        - fan:
            parallel:
              shared: [out]
              branches:
                - left:
                    steps:
                      - a:
                          assign:
                            - local: ${base + 1}
                            - out.left: ${local}
                - right:
                    steps:
                      - b:
                          assign:
                            - out.right: ${base + 2}
        - done:
            return: ${out}
        """
    )
    assert result == {"left": 11, "right": 12}


def test_parallel_branch_may_not_write_an_unshared_outer_variable(run_workflow: RunWorkflow) -> None:
    with pytest.raises(DefinitionError, match="'base'.*not listed in 'shared'"):
        run_workflow(
            """
            - init:
                assign:
                  - base: 1
            - fan:
                parallel:
                  branches:
                    - one:
                        steps:
                          - a:
                              assign:
                                - base: 2
                    - two:
                        steps:
                          - b:
                              assign:
                                - other: 3
            """
        )


def test_parallel_for_collects_into_shared_list_without_losing_updates(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - squares: []
              - total: 0
        - fan:
            parallel:
              shared: [squares, total]
              for:
                value: k
                range: [1, 30]
                steps:
                  - add:
                      assign:
                        - squares: ${list.concat(squares, k * k)}
                        - total: ${total + k}
        - done:
            return: {"squares": "${squares}", "total": "${total}"}
        """
    )
    assert sorted(result["squares"]) == [k * k for k in range(1, 31)]
    assert result["total"] == 465


def test_parallel_for_honours_concurrency_limit(run_workflow: RunWorkflow) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def slow(args: dict[str, Any], ctx: CallContext) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1
        return args["n"]

    result = run_workflow(
        """
        - init:
            assign:
              - got: []
        - fan:
            parallel:
              shared: [got]
              concurrency_limit: 2
              for:
                value: n
                in: [1, 2, 3, 4, 5, 6]
                steps:
                  - work:
                      call: test.slow
                      args:
                        n: ${n}
                      result: r
                  - keep:
                      assign:
                        - got: ${list.concat(got, r)}
        - done:
            return: ${got}
        """,
        connectors={"test.slow": slow},
    )
    assert sorted(result) == [1, 2, 3, 4, 5, 6]
    assert peak == 2


def test_unhandled_branch_errors_are_collected_after_all_branches_ran(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        - init:
            assign:
              - done: []
        - guarded:
            try:
              steps:
                - fan:
                    parallel:
                      shared: [done]
                      for:
                        value: n
                        in: [1, 2, 3]
                        steps:
                          - maybe_fail:
                              switch:
                                - condition: ${n == 2}
                                  raise: {"message": "two failed", "tags": ["Custom"]}
                          - ok:
                              assign:
                                - done: ${list.concat(done, n)}
            except:
              as: e
              steps:
                - out:
                    return: {"tags": "${e.tags}", "branches": "${e.branches}", "done": "${done}"}
        """
    )
    assert result["tags"] == ["UnhandledBranchError"]
    assert result["branches"] == [{"id": "1", "error": {"message": "two failed", "tags": ["Custom"]}}]
    assert sorted(result["done"]) == [1, 3]


PREDICATE_WORKFLOW = """
main:
  params: [plan]
  steps:
    - init:
        assign:
          - attempts: 0
    - flaky:
        try:
          steps:
            - count:
                assign:
                  - attempts: ${attempts + 1}
            - maybe_fail:
                switch:
                  - condition: ${attempts <= plan.failures}
                    raise:
                      message: ${"attempt " + string(attempts) + " failed"}
                      tags: ${plan.tags}
        retry:
          predicate: ${only_transient}
          max_retries: 3
          backoff:
            initial_delay: 10
            max_delay: 25
            multiplier: 2
        except:
          as: e
          steps:
            - give_up:
                return: {"attempts": "${attempts}", "error": "${e.message}"}
    - done:
        return: {"attempts": "${attempts}", "error": null}
only_transient:
  params: [e]
  steps:
    - decide:
        return: ${not ("Permanent" in e.tags)}
"""


def test_retry_with_predicate_subworkflow_and_exponential_backoff(run_workflow: RunWorkflow, recorder: Recorder) -> None:
    result = run_workflow(PREDICATE_WORKFLOW, {"failures": 2, "tags": ["Transient"]})
    assert result == {"attempts": 3, "error": None}
    assert recorder.sleeps == [10.0, 20.0]


def test_retry_stops_after_max_retries_with_capped_delays(run_workflow: RunWorkflow, recorder: Recorder) -> None:
    result = run_workflow(PREDICATE_WORKFLOW, {"failures": 99, "tags": ["Transient"]})
    assert result == {"attempts": 4, "error": "attempt 4 failed"}
    assert recorder.sleeps == [10.0, 20.0, 25.0]


def test_predicate_false_means_no_retry(run_workflow: RunWorkflow, recorder: Recorder) -> None:
    result = run_workflow(PREDICATE_WORKFLOW, {"failures": 99, "tags": ["Permanent"]})
    assert result == {"attempts": 1, "error": "attempt 1 failed"}
    assert recorder.sleeps == []


def test_builtin_default_retry_policy(run_workflow: RunWorkflow, recorder: Recorder) -> None:
    calls: list[int] = []

    def unavailable_twice(args: dict[str, Any], ctx: CallContext) -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise WorkflowError({"message": "busy", "code": 503, "tags": ["HttpError"]})
        return "ok"

    result = run_workflow(
        """
        - call_it:
            try:
              call: test.flaky
              result: r
            retry: ${http.default_retry}
        - done:
            return: ${r}
        """,
        connectors={"test.flaky": unavailable_twice},
    )
    assert result == "ok"
    assert recorder.sleeps == [1.0, 1.25]


def test_raise_string_and_map_and_uncaught_error(run_workflow: RunWorkflow) -> None:
    caught = run_workflow(
        """
        - boom:
            try:
              raise: plain text
            except:
              as: e
              steps:
                - out:
                    return: ${e}
        """
    )
    assert caught == "plain text"
    with pytest.raises(WorkflowError) as raised:
        run_workflow("""
            - boom:
                raise:
                  code: 55
                  message: custom
            """)
    assert raised.value.value == {"code": 55, "message": "custom"}


def test_subworkflow_params_defaults_and_expression_calls(run_workflow: RunWorkflow) -> None:
    result = run_workflow(
        """
        main:
          steps:
            - by_call:
                call: greet
                args:
                  name: Ada
                result: first
            - by_expression:
                return: ${[first, greet("Bob", "Hi")]}
        greet:
          params: [name, greeting: Hello]
          steps:
            - out:
                return: ${greeting + ", " + name}
        """
    )
    assert result == ["Hello, Ada", "Hi, Bob"]


def test_missing_subworkflow_argument_is_a_type_error(run_workflow: RunWorkflow) -> None:
    with pytest.raises(WorkflowError, match="missing the argument 'name'"):
        run_workflow(
            """
            main:
              steps:
                - c:
                    call: greet
            greet:
              params: [name]
              steps:
                - out:
                    return: ${name}
            """
        )


def test_next_end_stops_without_a_value(run_workflow: RunWorkflow) -> None:
    assert run_workflow("""
        - first:
            next: end
        - never:
            return: 1
        """) is None


def test_next_to_an_unknown_step_is_a_definition_error(run_workflow: RunWorkflow) -> None:
    with pytest.raises(DefinitionError, match="nowhere"):
        run_workflow("""
            - first:
                next: nowhere
            """)


def test_sys_log_and_sys_sleep(run_workflow: RunWorkflow, recorder: Recorder) -> None:
    run_workflow(
        """
        - say:
            call: sys.log
            args:
              text: hello
              severity: WARNING
        - data:
            call: sys.log
            args:
              data: {"k": [1]}
        - nap:
            call: sys.sleep
            args:
              seconds: 2.5
        """
    )
    assert ("WARNING", "hello") in recorder.logs
    assert ("INFO", '{"k": [1]}') in recorder.logs
    assert recorder.sleeps == [2.5]


def test_connector_receives_evaluated_args_and_context(run_workflow: RunWorkflow) -> None:
    seen: dict[str, Any] = {}

    def connector(args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        seen.update(args=args, call=ctx.call, step=ctx.step, attempt=ctx.next_attempt("k"))
        return {"echo": args["value"]}

    result = run_workflow(
        """
        - init:
            assign:
              - v: 41
        - use:
            call: googleapis.example.v1.things.get
            args:
              value: ${v + 1}
            result: out
        - done:
            return: ${out.echo}
        """,
        connectors={"googleapis.example.v1.things.get": connector},
    )
    assert result == 42
    assert seen == {"args": {"value": 42}, "call": "googleapis.example.v1.things.get", "step": "use", "attempt": 0}


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("- s:\n    call: googleapis.unknown.v1.thing\n", "call 'googleapis.unknown.v1.thing' in step 's'"),
        ("- s:\n    call: events.await_callback\n", "call 'events.await_callback' in step 's'"),
        ("- s:\n    frobnicate: 1\n", "['frobnicate'] in step 's'"),
        ("- s:\n    parallel:\n      exception_policy: stopAll\n      branches: []\n", "exception_policy 'stopAll' in step 's'"),
    ],
)
def test_unsupported_constructs_are_named(run_workflow: RunWorkflow, source: str, named: str) -> None:
    with pytest.raises(UnsupportedConstruct) as caught:
        run_workflow(source)
    assert named in str(caught.value)


class _EchoHandler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length).decode() if length else ""
        status = 404 if self.path.startswith("/missing") else 200
        payload = json.dumps({"method": self.command, "path": self.path, "body": received, "auth": self.headers.get("X-Test")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_calls_to_loopback(run_workflow: RunWorkflow, echo_server: str) -> None:
    result = run_workflow(
        """
        main:
          params: [base]
          steps:
            - post:
                call: http.post
                args:
                  url: ${base + "/jobs"}
                  query:
                    page: 2
                  headers:
                    X-Test: "yes"
                  body:
                    name: clip
                  auth:
                    type: OIDC
                result: posted
            - missing:
                try:
                  call: http.get
                  args:
                    url: ${base + "/missing"}
                except:
                  as: e
                  steps:
                    - keep:
                        assign:
                          - failure: ${e}
            - done:
                return: {"posted": "${posted}", "code": "${failure.code}", "tags": "${failure.tags}"}
        """,
        echo_server,
    )
    assert result["posted"]["code"] == 200
    assert result["posted"]["body"] == {"method": "POST", "path": "/jobs?page=2", "body": '{"name": "clip"}', "auth": "yes"}
    assert result["code"] == 404
    assert result["tags"] == ["HttpError"]


def test_http_refuses_non_loopback_urls(run_workflow: RunWorkflow) -> None:
    with pytest.raises(WorkflowError, match="only loopback URLs"):
        run_workflow("""
            - out:
                call: http.get
                args:
                  url: https://example.com/
            """)
