"""A small GraphQL reader: enough of the language to serve the Labelbox SDK's queries.

It parses one operation (``query``/``mutation``, its name, its root fields with their
arguments and selection sets), resolves ``$variables`` in arguments, and projects a resolver's
plain ``dict`` onto the selection set the client asked for (missing fields become ``null``).
Fragments and directives are not supported: the SDK's export calls never send them.

>>> op = parse('query Q($id: ID!){project(where: {id: $id}){name id}}', {"id": "p1"})
>>> op.name, op.fields[0].name, op.fields[0].args
('Q', 'project', {'where': {'id': 'p1'}})
>>> project({"name": "n", "id": "p1", "extra": 1}, op.fields[0].children)
{'name': 'n', 'id': 'p1'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GraphQLSyntaxError", "Operation", "Selection", "parse", "project"]

_TOKEN = re.compile(
    r"""
    (?P<ignored>[\s,\ufeff]+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\[\]{}:=@|])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
    """,
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class GraphQLSyntaxError(ValueError):
    """The query text is not a GraphQL document this reader understands."""


@dataclass(frozen=True)
class Selection:
    """One field of a selection set: name, optional alias, resolved arguments, sub-fields."""

    name: str
    alias: str | None
    args: dict[str, Any]
    children: tuple[Selection, ...]

    @property
    def key(self) -> str:
        """The response key (alias if given, else the field name)."""
        return self.alias or self.name


@dataclass(frozen=True)
class Operation:
    """A parsed operation: kind (``query``/``mutation``), name (or None) and root fields."""

    kind: str
    name: str | None
    fields: tuple[Selection, ...]


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise GraphQLSyntaxError(f"Syntax Error: Unexpected character at line {line}")
        kind = match.lastgroup or ""
        if kind != "ignored":
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


def _unquote(raw: str) -> str:
    out: list[str] = []
    i = 1
    while i < len(raw) - 1:
        char = raw[i]
        if char == "\\":
            nxt = raw[i + 1]
            if nxt == "u":
                out.append(chr(int(raw[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, Any]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.variables = variables

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_value = self.peek()
        if (value is not None and tok_value != value) or (kind is not None and tok_kind != kind):
            wanted = value or kind
            raise GraphQLSyntaxError(f'Syntax Error: Expected {wanted}, found "{tok_value}"')
        self.pos += 1
        return tok_value

    def at(self, value: str) -> bool:
        kind, tok_value = self.peek()
        return tok_value == value and kind != "string"

    def operation(self) -> Operation:
        kind, name = "query", None
        if self.peek()[0] == "name":
            kind = self.take(kind="name")
            if kind not in ("query", "mutation", "subscription"):
                raise GraphQLSyntaxError(f'Syntax Error: Unexpected Name "{kind}"')
            if self.peek()[0] == "name":
                name = self.take(kind="name")
            if self.at("("):
                self.skip_balanced("(", ")")
        fields = self.selection_set()
        if self.peek()[0] != "eof":
            raise GraphQLSyntaxError("Syntax Error: only one operation per document is supported")
        return Operation(kind, name, fields)

    def skip_balanced(self, opening: str, closing: str) -> None:
        depth = 0
        while True:
            _, value = self.peek()
            if value == "":
                raise GraphQLSyntaxError(f"Syntax Error: Expected {closing}, found <EOF>")
            self.pos += 1
            depth += (value == opening) - (value == closing)
            if depth == 0:
                return

    def selection_set(self) -> tuple[Selection, ...]:
        self.take("{")
        fields: list[Selection] = []
        while not self.at("}"):
            if self.peek()[0] in ("spread", "eof"):
                raise GraphQLSyntaxError("Syntax Error: fragments are not supported")
            fields.append(self.field())
        self.take("}")
        return tuple(fields)

    def field(self) -> Selection:
        name, alias = self.take(kind="name"), None
        if self.at(":"):
            self.take(":")
            alias, name = name, self.take(kind="name")
        args: dict[str, Any] = {}
        if self.at("("):
            self.take("(")
            while not self.at(")"):
                arg = self.take(kind="name")
                self.take(":")
                args[arg] = self.value()
            self.take(")")
        children = self.selection_set() if self.at("{") else ()
        return Selection(name, alias, args, children)

    def value(self) -> Any:
        kind, raw = self.peek()
        if kind == "punct":
            return self.compound(raw)
        self.pos += 1
        if kind == "string":
            return _unquote(raw)
        if kind == "number":
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(raw, raw)
        raise GraphQLSyntaxError(f'Syntax Error: Unexpected "{raw or "<EOF>"}"')

    def compound(self, raw: str) -> Any:
        self.pos += 1
        if raw == "$":
            return self.variables.get(self.take(kind="name"))
        if raw == "[":
            items = []
            while not self.at("]"):
                items.append(self.value())
            self.take("]")
            return items
        if raw == "{":
            obj: dict[str, Any] = {}
            while not self.at("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        raise GraphQLSyntaxError(f'Syntax Error: Unexpected "{raw}"')


def parse(text: str, variables: Mapping[str, Any] | None = None) -> Operation:
    """Parse one GraphQL operation, resolving ``$variables`` in its arguments."""
    return _Parser(text, variables or {}).operation()


def project(value: Any, children: tuple[Selection, ...]) -> Any:
    """Keep only the selected fields of ``value`` (recursively, through lists)."""
    if not children or value is None:
        return value
    if isinstance(value, list):
        return [project(item, children) for item in value]
    if not isinstance(value, Mapping):
        return value
    return {sel.key: project(value.get(sel.name), sel.children) for sel in children}
