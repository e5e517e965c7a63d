"""Data-row metadata fields and attachments -> rows of ``metadata`` and ``attachments``.

Both export generations list metadata fields (v1 ``DataRow Metadata``: ``schemaId``,
``schemaName``, ``value``; v2 ``metadata_fields``: ``schema_id``, ``schema_name``,
``schema_kind``, ``value``); only v2 lists attachments (``id``, ``type``, ``name``, ``value``).
The kind of a field comes from ``schema_kind`` when exported, else from the value: a JSON
number is a number, an ISO-8601 date-time string a datetime, an object holding an option's
schema id or name an enum, any other string a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .common import Row, as_dict, as_list, extra_json, text, to_json, ts

_FIELD_KNOWN = frozenset(
    {"schemaId", "schema_id", "schemaName", "schema_name", "name", "schemaKind", "schema_kind"}
    | {"value"}
)
_ATTACHMENT_KNOWN = frozenset({"id", "type", "name", "value"})
_KINDS = {  # schema_kind as exported -> kind (lower-cased, "custommetadata" prefix removed)
    "string": "string",
    "number": "number",
    "datetime": "datetime",
    "enum": "enum",
    "option": "enum",
    "enumoption": "enum",
}
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def metadata_rows(fields: Any, project_id: str, data_row_id: str) -> Iterator[Row]:
    """Rows of a metadata field list (None: no rows).

    >>> [(r["name"], r["kind"], r["value"], r["value_number"]) for r in metadata_rows(
    ...     [{"schema_id": "s", "schema_name": "score", "value": 0.5}], "P", "D")]
    [('score', 'number', '0.5', 0.5)]
    """
    for position, item in enumerate(as_list(fields, "metadata fields")):
        entry = as_dict(item, "metadata field")
        value = entry.get("value")
        kind = field_kind(entry.get("schema_kind", entry.get("schemaKind")), value)
        row: Row = {
            "project_id": project_id,
            "data_row_id": data_row_id,
            "position": position,
            "schema_id": text(entry.get("schema_id", entry.get("schemaId")), "schema_id"),
            "name": text(
                entry.get("schema_name", entry.get("schemaName", entry.get("name"))), "name"
            ),
            "kind": kind,
            "value": None,
            "value_number": None,
            "value_datetime": None,
            "value_enum": None,
            "value_enum_id": None,
            "extra_json": extra_json(entry, _FIELD_KNOWN),
        }
        row.update(field_values(kind, value))
        yield row


def field_kind(exported: Any, value: Any) -> str:
    """The kind of a field: its exported ``schema_kind`` if any, else from its value."""
    if isinstance(exported, str) and exported:
        name = exported.lower().removeprefix("custommetadata")
        return _KINDS.get(name, name)
    if isinstance(value, bool):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "enum"
    if isinstance(value, str) and _DATETIME.match(value) and _parses(value):
        return "datetime"
    return "string"


def _parses(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def field_values(kind: str, value: Any) -> Row:
    """The value columns of one field: text always, the typed column of its kind."""
    as_text = value if isinstance(value, str) else to_json(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return {"value": as_text, "value_number": float(value)}
    if kind == "datetime" and isinstance(value, str) and _parses(value):
        instant = ts(value, "metadata datetime")  # text: the UTC instant, as v1 and v2 agree
        return {"value": instant.isoformat() if instant else value, "value_datetime": instant}
    if kind == "enum" and isinstance(value, dict):
        name = text(value.get("schema_name", value.get("schemaName", value.get("name"))), "enum")
        sid = text(value.get("schema_id", value.get("schemaId")), "enum schema_id")
        return {"value": name or as_text, "value_enum": name, "value_enum_id": sid}
    if kind == "enum" and isinstance(value, str):  # the option given as text
        return {"value": value, "value_enum": value}
    return {"value": as_text}


def attachment_rows(attachments: Any, project_id: str, data_row_id: str) -> Iterator[Row]:
    """Rows of an attachment list (None: no rows).

    >>> [(r["type"], r["name"], r["value"]) for r in attachment_rows(
    ...     [{"type": "RAW_TEXT", "name": "note", "value": "hi"}], "P", "D")]
    [('RAW_TEXT', 'note', 'hi')]
    """
    for position, item in enumerate(as_list(attachments, "attachments")):
        get = as_dict(item, "attachment").get
        yield {
            "project_id": project_id,
            "data_row_id": data_row_id,
            "position": position,
            "attachment_id": text(get("id"), "attachment id"),
            "type": text(get("type"), "attachment type"),
            "name": text(get("name"), "attachment name"),
            "value": text(get("value"), "attachment value"),
            "extra_json": extra_json(item, _ATTACHMENT_KNOWN),
        }
