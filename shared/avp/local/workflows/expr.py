"""Workflows expressions: a tokenizer, a recursive-descent parser and an evaluator.

Only values that start with `${` are expressions, and the expression must fill the whole
value. The closing `}` is found by parsing, never by a pattern: `}` may sit inside a string
literal (`${"a}b"}`) or close a map literal. Field access (`x.keys`) and calls
(`keys(x)`, `map.get(m, k)`) are told apart by the parenthesis alone, so map keys may be
named like functions.

Precedence follows the Workflows reference, highest first: `.` `[]` and calls, `not`,
unary `-`, `* / // %`, `+ -`, comparisons and `in`, `and`, `or`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from avp.local.workflows.errors import ExpressionSyntaxError, WorkflowError

EXPRESSION_START = "${"

# Logical operators and booleans may be written in lower or upper case (booleans also
# capitalised), never in mixed case.
_KEYWORDS = {"and", "or", "not", "in", "AND", "OR", "NOT", "IN"}
_LITERALS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False, "null": None}
_TWO_CHAR_OPS = {"//", "==", "!=", "<=", ">="}
_ONE_CHAR_OPS = set("+-*/%<>()[]{},.:")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "op" or "end"
    value: Any
    pos: int


class _Lexer:
    """Hands out tokens on demand, so whatever follows the closing `}` is never tokenized."""

    def __init__(self, text: str, start: int):
        self.text = text
        self.pos = start
        self._peeked: Token | None = None

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def take(self) -> Token:
        token = self.peek()
        self._peeked = None
        return token

    def _scan(self) -> Token:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return Token("end", None, start)
        char = text[start]
        if char.isdigit():
            return self._number(start)
        if char in "\"'":
            return self._string(start, char)
        if char.isalpha() or char == "_":
            end = start
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            self.pos = end
            return Token("name", text[start:end], start)
        if text[start : start + 2] in _TWO_CHAR_OPS:
            self.pos = start + 2
            return Token("op", text[start : start + 2], start)
        if char in _ONE_CHAR_OPS:
            self.pos = start + 1
            return Token("op", char, start)
        raise ExpressionSyntaxError(_where(f"unexpected character {char!r}", text, start))

    def _number(self, start: int) -> Token:
        text = self.text
        end = start
        while end < len(text) and text[end].isdigit():
            end += 1
        is_double = False
        # "1.5" is a double, but in "1.x" the dot would be field access, which is an error later.
        if end + 1 < len(text) and text[end] == "." and text[end + 1].isdigit():
            is_double = True
            end += 1
            while end < len(text) and text[end].isdigit():
                end += 1
        if end < len(text) and text[end] in "eE":
            exponent = end + 1
            if exponent < len(text) and text[exponent] in "+-":
                exponent += 1
            if exponent < len(text) and text[exponent].isdigit():
                is_double = True
                end = exponent
                while end < len(text) and text[end].isdigit():
                    end += 1
        self.pos = end
        literal = text[start:end]
        return Token("num", float(literal) if is_double else int(literal), start)

    def _string(self, start: int, quote: str) -> Token:
        text = self.text
        out: list[str] = []
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == quote:
                self.pos = i + 1
                return Token("str", "".join(out), start)
            if char == "\\":
                if i + 1 >= len(text):
                    break
                code = text[i + 1]
                if code == "u":
                    digits = text[i + 2 : i + 6]
                    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                        raise ExpressionSyntaxError(_where("bad \\u escape in string literal", text, i))
                    out.append(chr(int(digits, 16)))
                    i += 6
                    continue
                if code not in _ESCAPES:
                    raise ExpressionSyntaxError(_where(f"unknown escape \\{code} in string literal", text, i))
                out.append(_ESCAPES[code])
                i += 2
                continue
            out.append(char)
            i += 1
        raise ExpressionSyntaxError(_where("unterminated string literal", text, start))


# The syntax tree. `pos` is the offset in the source text, for error messages.
@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True)
class Attr:
    target: Node
    name: str
    pos: int


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node
    pos: int


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class MapLiteral:
    entries: tuple[tuple[Node, Node], ...]
    pos: int


Node = Literal | Name | Attr | Index | Call | Unary | Binary | ListLiteral | MapLiteral

_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}
_MULTIPLICATIVE = {"*", "/", "//", "%"}


class _Parser:
    def __init__(self, text: str, start: int):
        self.text = text
        self.lexer = _Lexer(text, start)

    def fail(self, message: str, token: Token) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(_where(message, self.text, token.pos))

    def expect_op(self, op: str) -> Token:
        token = self.lexer.take()
        if token.kind != "op" or token.value != op:
            raise self.fail(f"expected {op!r} but found {_describe(token)}", token)
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.lexer.peek()
        return token.kind == "op" and token.value in ops

    def at_keyword(self, word: str) -> bool:
        token = self.lexer.peek()
        return token.kind == "name" and token.value in (word, word.upper())

    def expression(self) -> Node:
        return self.or_expr()

    def or_expr(self) -> Node:
        return self.left_associative(self.and_expr, {"or"})

    def and_expr(self) -> Node:
        return self.left_associative(self.comparison, {"and"})

    def comparison(self) -> Node:
        return self.left_associative(self.additive, _COMPARISONS | {"in"})

    def additive(self) -> Node:
        return self.left_associative(self.multiplicative, {"+", "-"})

    def multiplicative(self) -> Node:
        return self.left_associative(self.unary, _MULTIPLICATIVE)

    def left_associative(self, operand: Callable[[], Node], operators: set[str]) -> Node:
        """`operand (op operand)*` for one precedence level, grouped from the left."""
        left = operand()
        while (op := self.binary_operator(operators)) is not None:
            token = self.lexer.take()
            left = Binary(op, left, operand(), token.pos)
        return left

    def binary_operator(self, operators: set[str]) -> str | None:
        """The next token's operator if it is one of `operators` (keywords in lower case)."""
        token = self.lexer.peek()
        if token.kind == "op" and token.value in operators:
            return str(token.value)
        if token.kind == "name" and token.value in _KEYWORDS and token.value.lower() in operators:
            return str(token.value).lower()
        return None

    def unary(self) -> Node:
        if self.at_keyword("not"):
            token = self.lexer.take()
            return Unary("not", self.unary(), token.pos)
        if self.at_op("-"):
            token = self.lexer.take()
            return Unary("-", self.unary(), token.pos)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.at_op("."):
                self.lexer.take()
                token = self.lexer.take()
                if token.kind != "name":
                    raise self.fail(f"expected a field name after '.' but found {_describe(token)}", token)
                node = Attr(node, token.value, token.pos)
            elif self.at_op("["):
                token = self.lexer.take()
                index = self.expression()
                self.expect_op("]")
                node = Index(node, index, token.pos)
            elif self.at_op("("):
                token = self.lexer.peek()
                function = dotted_name(node)
                if function is None:
                    raise self.fail("only named functions can be called", token)
                self.lexer.take()
                node = Call(function, self.arguments(), node.pos)
            else:
                return node

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.expression())
            while self.at_op(","):
                self.lexer.take()
                args.append(self.expression())
        self.expect_op(")")
        return tuple(args)

    def primary(self) -> Node:
        token = self.lexer.take()
        if token.kind in ("num", "str"):
            return Literal(token.value, token.pos)
        if token.kind == "name":
            if token.value in _LITERALS:
                return Literal(_LITERALS[token.value], token.pos)
            if token.value in _KEYWORDS:
                raise self.fail(f"unexpected keyword {token.value!r}", token)
            return Name(token.value, token.pos)
        if token.kind == "op" and token.value == "(":
            inner = self.expression()
            self.expect_op(")")
            return inner
        if token.kind == "op" and token.value == "[":
            return ListLiteral(self.sequence("]"), token.pos)
        if token.kind == "op" and token.value == "{":
            return MapLiteral(self.map_entries(), token.pos)
        raise self.fail(f"expected a value but found {_describe(token)}", token)

    def sequence(self, closer: str) -> tuple[Node, ...]:
        items: list[Node] = []
        while not self.at_op(closer):
            items.append(self.expression())
            if not self.at_op(closer):
                self.expect_op(",")
        self.lexer.take()
        return tuple(items)

    def map_entries(self) -> tuple[tuple[Node, Node], ...]:
        entries: list[tuple[Node, Node]] = []
        while not self.at_op("}"):
            key = self.expression()
            self.expect_op(":")
            entries.append((key, self.expression()))
            if not self.at_op("}"):
                self.expect_op(",")
        self.lexer.take()
        return tuple(entries)


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else repr(token.value)


def _where(message: str, text: str, pos: int) -> str:
    return f"{message} at position {pos} in {text!r}"


def dotted_name(node: Node) -> str | None:
    """`a.b.c` for a chain of plain names and field accesses, else None."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Attr):
        head = dotted_name(node.target)
        return None if head is None else f"{head}.{node.name}"
    return None


def is_expression(value: Any) -> TypeGuard[str]:
    """Whether a workflow value is an expression (a string starting with `${`)."""
    return isinstance(value, str) and value.startswith(EXPRESSION_START)


def parse_expression(text: str) -> Node:
    """Parse a whole `${...}` value; anything after its closing `}` is an error."""
    if not is_expression(text):
        raise ExpressionSyntaxError(f"an expression must start with '${{': {text!r}")
    parser = _Parser(text, len(EXPRESSION_START))
    if parser.at_op("}"):
        raise parser.fail("empty expression", parser.lexer.peek())
    node = parser.expression()
    parser.expect_op("}")
    rest = parser.lexer.peek()
    if rest.kind != "end":
        raise parser.fail("text after the closing '}' of the expression", rest)
    return node


def parse_target(text: str) -> tuple[str, tuple[Node, ...]]:
    """Parse an assignment target (`a`, `a.b`, `a["k"][0]`) into the variable and its path.

    Each path element is a node giving the key or index: a `Literal` for `.name`.
    """
    parser = _Parser(text, 0)
    node = parser.postfix()
    end = parser.lexer.peek()
    if end.kind != "end":
        raise parser.fail("unexpected text in assignment target", end)
    path: list[Node] = []
    while not isinstance(node, Name):
        if isinstance(node, Attr):
            path.append(Literal(node.name, node.pos))
            node = node.target
        elif isinstance(node, Index):
            path.append(node.index)
            node = node.target
        else:
            raise ExpressionSyntaxError(_where("an assignment target must be a variable, field or index", text, 0))
    return node.name, tuple(reversed(path))


# bool before int: in Python a boolean is an int, in Workflows it is not a number.
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "double"),
    (str, "string"),
    (bytes, "bytes"),
    (list, "list"),
    (dict, "map"),
)


def type_name(value: Any) -> str:
    """The Workflows name of a value's type, for error messages and type checks."""
    for python_type, name in _TYPE_NAMES:
        if isinstance(value, python_type):
            return name
    return "function" if callable(value) else type(value).__name__


def is_number(value: Any) -> TypeGuard[int | float]:
    """Integers and doubles; booleans are not numbers in Workflows (unlike Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def values_equal(left: Any, right: Any) -> bool:
    """Workflows equality: numbers compare by value, other types only with their own kind."""
    if is_number(left) and is_number(right):
        return left == right
    if type_name(left) != type_name(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return left == right


def error(tag: str, message: str, text: str, pos: int) -> WorkflowError:
    """A workflow-visible error that names where in the expression it happened."""
    return WorkflowError.tagged(tag, _where(message, text, pos))


class Variables(Protocol):
    """What the evaluator reads variables from: a dict, or a chain of scopes."""

    def __contains__(self, name: object) -> bool: ...

    def __getitem__(self, name: str) -> Any: ...


class Evaluator:
    """Evaluates parsed expressions against variables and a table of built-ins.

    `builtins` maps dotted names to functions (for calls) or to values (for bare names
    such as `http.default_retry`); a variable of the same name always wins.
    """

    def __init__(self, variables: Variables, builtins: Mapping[str, Any]):
        self.variables = variables
        self.builtins = builtins

    def evaluate_text(self, text: str) -> Any:
        """Parse and evaluate one `${...}` value."""
        return self.evaluate(parse_expression(text), text)

    def resolve(self, value: Any) -> Any:
        """Evaluate every expression inside a workflow value (maps and lists recursively)."""
        if is_expression(value):
            return self.evaluate_text(value)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def evaluate(self, node: Node, text: str) -> Any:
        """Evaluate a node of `text` (the source, used only to point at errors)."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Name):
            return self._name(node, text)
        if isinstance(node, Attr):
            return self._attr(node, text)
        if isinstance(node, Index):
            target = self.evaluate(node.target, text)
            return index_into(target, self.evaluate(node.index, text), text, node.pos)
        if isinstance(node, Call):
            return self._call(node, text)
        if isinstance(node, Unary):
            return self._unary(node, text)
        if isinstance(node, Binary):
            return self._binary(node, text)
        if isinstance(node, ListLiteral):
            return [self.evaluate(item, text) for item in node.items]
        return self._map(node, text)

    def _name(self, node: Name, text: str) -> Any:
        if node.name in self.variables:
            return self.variables[node.name]
        if node.name in self.builtins:
            return self.builtins[node.name]
        raise error("KeyError", f"variable {node.name!r} is not defined", text, node.pos)

    def _attr(self, node: Attr, text: str) -> Any:
        dotted = dotted_name(node)
        if dotted is not None and dotted.split(".", 1)[0] not in self.variables and dotted in self.builtins:
            return self.builtins[dotted]
        return index_into(self.evaluate(node.target, text), node.name, text, node.pos, field=True)

    def _call(self, node: Call, text: str) -> Any:
        function = self.builtins.get(node.function)
        if not callable(function):
            raise error("KeyError", f"unknown function {node.function}()", text, node.pos)
        args = [self.evaluate(arg, text) for arg in node.args]
        try:
            return function(*args)
        except TypeError as failure:  # a wrong number of arguments
            raise error("TypeError", f"{node.function}(): {failure}", text, node.pos) from failure
        except WorkflowError as failure:
            if isinstance(failure.value, dict) and "message" in failure.value:
                detail = _where(f"{node.function}(): {failure.value['message']}", text, node.pos)
                raise WorkflowError({**failure.value, "message": detail}) from failure
            raise

    def _unary(self, node: Unary, text: str) -> Any:
        value = self.evaluate(node.operand, text)
        if node.op == "not":
            if not isinstance(value, bool):
                raise error("TypeError", f"'not' needs a boolean, got {type_name(value)}", text, node.pos)
            return not value
        if not is_number(value):
            raise error("TypeError", f"unary '-' needs a number, got {type_name(value)}", text, node.pos)
        return -value

    def _binary(self, node: Binary, text: str) -> Any:
        left = self.evaluate(node.left, text)
        if node.op in ("and", "or"):
            self._need_boolean(node.op, left, text, node.pos)
            # Short-circuit, as in the cloud: `x != null and x.y` must not touch x.y.
            if (node.op == "and") != left:
                return left
            right = self.evaluate(node.right, text)
            self._need_boolean(node.op, right, text, node.pos)
            return right
        return binary_operation(node.op, left, self.evaluate(node.right, text), text, node.pos)

    @staticmethod
    def _need_boolean(op: str, value: Any, text: str, pos: int) -> None:
        if not isinstance(value, bool):
            raise error("TypeError", f"'{op}' needs booleans, got {type_name(value)}", text, pos)

    def _map(self, node: MapLiteral, text: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.entries:
            key = self.evaluate(key_node, text)
            if not isinstance(key, str):
                raise error("TypeError", f"map keys must be strings, got {type_name(key)}", text, key_node.pos)
            result[key] = self.evaluate(value_node, text)
        return result


def index_into(target: Any, key: Any, text: str, pos: int, *, field: bool = False) -> Any:
    """`target[key]` (or `target.key` when `field`) with the platform's error tags."""
    if isinstance(target, dict):
        if not isinstance(key, str):
            raise error("TypeError", f"map keys must be strings, got {type_name(key)}", text, pos)
        if key not in target:
            raise error("KeyError", f"key {key!r} not found in map", text, pos)
        return target[key]
    if isinstance(target, list) and not field:
        if not isinstance(key, int) or isinstance(key, bool):
            raise error("TypeError", f"list index must be an integer, got {type_name(key)}", text, pos)
        if not -len(target) <= key < len(target):
            raise error("IndexError", f"list index {key} out of range (length {len(target)})", text, pos)
        return target[key]
    access = f"field {key!r}" if field else "index"
    raise error("TypeError", f"cannot read {access} of a {type_name(target)}", text, pos)


def binary_operation(op: str, left: Any, right: Any, text: str, pos: int) -> Any:
    """Arithmetic, comparison and membership with Workflows typing rules."""
    if op == "==":
        return values_equal(left, right)
    if op == "!=":
        return not values_equal(left, right)
    if op == "in":
        if isinstance(right, dict):
            return isinstance(left, str) and left in right
        if isinstance(right, list):
            return any(values_equal(left, item) for item in right)
        raise error("TypeError", f"'in' needs a list or map on the right, got {type_name(right)}", text, pos)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op in ("<", "<=", ">", ">=") and isinstance(left, str) and isinstance(right, str):
        return _compare(op, left, right)
    if not (is_number(left) and is_number(right)):
        raise error("TypeError", f"unsupported operand types for '{op}': {type_name(left)} and {type_name(right)}", text, pos)
    if op in ("<", "<=", ">", ">="):
        return _compare(op, left, right)
    if op in ("/", "//", "%") and right == 0:
        raise error("ZeroDivisionError", f"division by zero in '{op}'", text, pos)
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right  # always a double, as in the cloud
    if op == "//":
        return left // right
    return left % right


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right
