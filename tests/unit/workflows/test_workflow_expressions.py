"""The Workflows expression language: tokenizer, precedence, the measured pitfalls, functions, errors."""
from __future__ import annotations

from typing import Any

import pytest

from avp.local.workflows import ExpressionSyntaxError, WorkflowError
from avp.local.workflows.expr import Evaluator, parse_expression, parse_target
from avp.local.workflows.stdlib import standard_functions

VARIABLES: dict[str, Any] = {
    "n": 7,
    "x": 2.5,
    "s": "Hello",
    "flag": True,
    "nothing": None,
    "items": [10, 20, 30],
    # Keys named like functions and methods: field access, not calls.
    "m": {"keys": ["k1"], "items": 3, "len": "L", "a b": 1, "nested": {"deep": [1, {"x": "y"}]}},
}


def ev(text: str, variables: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Any:
    functions = standard_functions(env or {}, clock=lambda: 1700000000.5)
    return Evaluator(VARIABLES if variables is None else variables, functions).evaluate_text(text)


def error_of(text: str) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        ev(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${42}", 42),
        ("${4.25}", 4.25),
        ("${1e3}", 1000.0),
        ('${"tab\\there"}', "tab\there"),
        ("${'single \\'quoted\\''}", "single 'quoted'"),
        ('${"\\u00e9t\\u00e9"}', "été"),
        ('${"quote \\" and backslash \\\\"}', 'quote " and backslash \\'),
        ("${true}", True),
        ("${False}", False),
        ("${TRUE}", True),
        ("${null}", None),
        ("${[1, \"two\", [3]]}", [1, "two", [3]]),
        ('${{"a": 1, "b": {"c": [true]}}}', {"a": 1, "b": {"c": [True]}}),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    assert ev(text) == expected
    assert type(ev(text)) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${1 + 2 * 3}", 7),
        ("${(1 + 2) * 3}", 9),
        ("${10 - 4 - 3}", 3),  # left associative
        ("${2 * 3 % 4}", 2),
        ("${-2 * -3}", 6),
        ("${7 // 2}", 3),
        ("${7 / 2}", 3.5),
        ("${6 / 3}", 2.0),  # division always gives a double
        ("${7 % 3}", 1),
        ("${n + x}", 9.5),
        ("${1 + 2 == 3}", True),
        ("${1 < 2 and 2 < 3 or false}", True),
        ("${false or true and false}", False),  # and binds tighter than or
        ("${not false and false}", False),  # not binds tighter than and
        ("${not true == false}", True),  # (not true) == false, per the reference
        ("${1 == 1.0}", True),
        ("${1 == true}", False),  # booleans are not numbers
        ('${"1" == 1}', False),
        ('${"abc" < "abd"}', True),
        ('${"a" + "b" + s}', "abHello"),
        ("${2 in items == false}", True),  # `in` and `==` share a level, left to right
        ("${20 in items}", True),
        ('${"items" in m}', True),
        ('${"zzz" in m}', False),
        ("${TRUE AND NOT FALSE}", True),
    ],
)
def test_operators_and_precedence(text: str, expected: Any) -> None:
    assert ev(text) == expected
    assert type(ev(text)) is type(expected)


def test_closing_brace_is_found_by_the_tokenizer_not_a_pattern() -> None:
    assert ev('${"}"}') == "}"
    assert ev('${"a}b" + "{c}"}') == "a}b{c}"
    assert ev('${{"k": "}"}}') == {"k": "}"}
    assert ev('${m["a b"] + 1}') == 2


def test_keys_named_like_methods_are_field_access_unless_called() -> None:
    assert ev("${m.keys}") == ["k1"]
    assert ev("${m.items}") == 3
    assert ev("${m.len}") == "L"
    assert ev("${keys(m)}") == ["keys", "items", "len", "a b", "nested"]
    assert ev("${len(m.keys)}") == 1


def test_access_chains() -> None:
    assert ev("${m.nested.deep[1].x}") == "y"
    assert ev('${m["nested"]["deep"][0]}') == 1
    assert ev("${items[-1]}") == 30
    assert ev("${items[1 + 1]}") == 30


def test_a_variable_shadows_a_builtin_namespace() -> None:
    assert ev("${text.a}", {"text": {"a": 1}}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('${default(nothing, "fallback")}', "fallback"),
        ('${default(s, "fallback")}', "Hello"),
        ("${len(s) + len(items) + len(m)}", 13),
        ('${map.get(m, "items")}', 3),
        ('${map.get(m, "missing")}', None),
        ('${map.get(m, ["nested", "deep"])}', [1, {"x": "y"}]),
        ('${map.get(m, ["nested", "nope", "deeper"])}', None),
        ('${text.split("a,b,,c", ",")}', ["a", "b", "", "c"]),
        ('${text.replace_all("a-b-c", "-", "+")}', "a+b+c"),
        ("${text.to_lower(s) + text.to_upper(s)}", "helloHELLO"),
        ('${text.find_all("banana", "an")}', [{"index": 1, "match": "an"}, {"index": 3, "match": "an"}]),
        ("${text.substring(s, 1, 3)}", "el"),
        ("${text.substring(s, 3, 99)}", "lo"),
        ('${json.encode_to_string({"a": [1, null, true]})}', '{"a":[1,null,true]}'),
        ('${json.encode({"a": 1})}', b'{"a":1}'),
        ('${json.decode("{\\"a\\": [1, 2.5]}")}', {"a": [1, 2.5]}),
        ('${json.decode(json.encode({"r": "t"}))}', {"r": "t"}),
        ("${time.format(0)}", "1970-01-01T00:00:00.000000Z"),
        ('${time.format(0, "Europe/Paris")}', "1970-01-01T01:00:00.000000+01:00"),
        ("${sys.now()}", 1700000000.5),
        ("${string(n) + string(x) + string(flag)}", "72.5true"),
        ('${int("42") + int(2.9)}', 44),
        ('${double("1.5")}', 1.5),
        ('${bool("TRUE")}', True),
        ("${list.concat(items, 40)}", [10, 20, 30, 40]),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_get_env_reads_the_execution_environment_only() -> None:
    assert ev('${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}', env={"GOOGLE_CLOUD_WORKFLOW_ID": "pipeline"}) == "pipeline"
    assert ev('${sys.get_env("PATH")}') is None
    assert ev('${sys.get_env("PATH", "none")}') == "none"


def test_and_or_short_circuit() -> None:
    assert ev("${nothing != null and nothing.field}") is False
    assert ev("${flag or items[99]}") is True


def test_list_concat_does_not_change_its_argument() -> None:
    variables = {"base": [1]}
    assert ev("${list.concat(base, 2)}", variables) == [1, 2]
    assert variables["base"] == [1]


@pytest.mark.parametrize(
    ("text", "tag", "fragment"),
    [
        ("${undefined_var}", "KeyError", "variable 'undefined_var' is not defined at position 2"),
        ("${m.missing}", "KeyError", "key 'missing' not found in map at position 4"),
        ("${items[3]}", "IndexError", "list index 3 out of range (length 3) at position 7"),
        ('${items["0"]}', "TypeError", "list index must be an integer"),
        ('${"a" + 1}', "TypeError", "unsupported operand types for '+': string and integer at position 6"),
        ("${1 / 0}", "ZeroDivisionError", "division by zero in '/'"),
        ("${n // 0}", "ZeroDivisionError", "division by zero in '//'"),
        ("${not 1}", "TypeError", "'not' needs a boolean, got integer at position 2"),
        ("${not 1 == 1}", "TypeError", "'not' needs a boolean"),  # not binds before ==
        ("${1 and true}", "TypeError", "'and' needs booleans, got integer"),
        ("${-s}", "TypeError", "unary '-' needs a number, got string"),
        ("${s.field}", "TypeError", "cannot read field 'field' of a string"),
        ('${1 in "abc"}', "TypeError", "'in' needs a list or map"),
        ("${len(1)}", "TypeError", "len(): len() argument must be string or list or map or bytes, got integer at position 2"),
        ("${len(s, s)}", "TypeError", "len(): "),
        ("${nope(1)}", "KeyError", "unknown function nope() at position 2"),
        ('${int("x1")}', "ValueError", "not an integer: 'x1'"),
        ('${json.decode("{")}', "ValueError", "invalid JSON"),
        ('${time.format(0, "Mars/Olympus")}', "ValueError", "unknown time zone"),
    ],
)
def test_runtime_errors_carry_tags_and_positions(text: str, tag: str, fragment: str) -> None:
    failure = error_of(text)
    assert failure.tags == [tag]
    assert fragment in failure.value["message"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("${1 +}", "expected a value but found '}' at position 5"),
        ('${"abc}', "unterminated string literal at position 2"),
        ("${a b}", "expected '}' but found 'b' at position 4"),
        ("${a} tail", "text after the closing '}' of the expression at position 5"),
        ("${}", "empty expression at position 2"),
        ("${(1 + 2}", "expected ')' but found '}' at position 8"),
        ("${1 # 2}", "unexpected character '#' at position 4"),
        ('${"\\q"}', "unknown escape \\q in string literal at position 3"),
        ("${items[0](1)}", "only named functions can be called at position 10"),
        ("${a.1}", "expected a field name after '.' but found 1 at position 4"),
        ("${m.keys(}", "expected a value but found '}'"),
        ("${and}", "unexpected keyword 'and' at position 2"),
    ],
)
def test_syntax_errors_name_the_construct_and_position(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)
    assert fragment in str(caught.value)


def test_values_that_do_not_start_with_the_marker_are_plain_text() -> None:
    evaluator = Evaluator(VARIABLES, standard_functions({}))
    assert evaluator.resolve("price: $5 {not an expression}") == "price: $5 {not an expression}"
    assert evaluator.resolve({"a": ["${n}", {"b": "${s}"}], "c": 1}) == {"a": [7, {"b": "Hello"}], "c": 1}


@pytest.mark.parametrize(
    ("text", "variable", "path"),
    [
        ("a", "a", []),
        ("a.b", "a", ["b"]),
        ('a["k"][0]', "a", ["k", 0]),
        ("a.items[n].keys", "a", ["items", 7, "keys"]),
    ],
)
def test_assignment_targets(text: str, variable: str, path: list[Any]) -> None:
    name, nodes = parse_target(text)
    evaluator = Evaluator(VARIABLES, standard_functions({}))
    assert name == variable
    assert [evaluator.evaluate(node, text) for node in nodes] == path


@pytest.mark.parametrize("text", ["a +", "f(x)", "1", "a.b c"])
def test_bad_assignment_targets(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse_target(text)
