"""Legacy (2018-2019) v1 records -> modern v1 records, the drift of each era normalised.

What a missing key means is documented for users in ``docs/legacy-exports.md``; in short:
no ``DataRow ID`` (2018): the label's own ``ID`` keys its data row; no ``Updated At`` /
``Created At`` / ``Reviews`` / ``Dataset Name``: null or no rows (not exported then, nothing
invented); ``Seconds to *`` as a numeric string: a float; ``External ID`` (and ``Global Key``,
``Benchmark ID``, ``Dataset Name``) of ``""``: null; ``"Label": "Skip"``: skipped;
``"Label": {}``: skipped in a modern-era file, an empty submission in a legacy-era one.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.exceptions import TransformError

from .legacy import NormalisedLabel, is_legacy_record, normalise_legacy_label

__all__ = ["NormalisedRecord", "is_legacy_file", "normalise_record"]


def is_legacy_file(records: Any) -> bool:
    """True if any record of a file (a list of v1 records) is legacy: the whole file is then
    read with the legacy conventions (``{}`` = an empty submission, not a skip)."""
    if isinstance(records, dict):
        records = [records]
    return isinstance(records, list) and any(is_legacy_record(r) for r in records)


@dataclass
class NormalisedRecord:
    """The result of :func:`normalise_record`.

    ``record``: a new modern v1 record (the input is not modified). ``label``: the
    :class:`NormalisedLabel`. ``legacy``: :func:`is_legacy_record` of the input.
    ``skipped``: the decided skip flag (also written as ``record["Skipped"]``). ``drift``:
    original values of the fields that were changed or filled, by key (``None`` for a
    filled key that was missing). ``missing``: legacy-era keys absent from the input.
    ``unmapped``: as :attr:`NormalisedLabel.unmapped`.
    """

    record: dict[str, Any]
    label: NormalisedLabel
    legacy: bool
    skipped: bool | None
    drift: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def unmapped(self) -> dict[str, Any]:
        return self.label.unmapped


_NUMBER_KEYS = ("Seconds to Label", "Seconds to Review", "Seconds to Create")
_SENTINEL_KEYS = ("Agreement", "Benchmark Agreement")  # -1 = no score
_TEXT_KEYS = ("External ID", "Global Key", "Benchmark ID", "Dataset Name")  # "" = none
_ERA_KEYS = ("DataRow ID", "Created At", "Updated At", "Reviews", "Dataset Name")
_MISSING = object()


def _number(value: Any) -> Any:
    """A number given as a JSON number or a numeric string -> float; else unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return value
        return parsed if math.isfinite(parsed) else value
    return value


def normalise_record(
    record: dict[str, Any], *, legacy_era: bool | None = None, embed: bool | None = None
) -> NormalisedRecord:
    """One v1 record (any era) -> :class:`NormalisedRecord` holding a modern record.

    * ``DataRow ID`` missing (2018): filled with the label ``ID`` (each legacy label is
      keyed by its own id: the export did not say which data row it labels).
    * ``Updated At`` / ``Created At`` missing: left missing (null column: not exported then;
      no value is invented).
    * ``Seconds to *`` as string/int/float: float. A non-numeric string is left as is.
    * ``Agreement`` / ``Benchmark Agreement`` of -1: null (no consensus/benchmark score).
    * ``External ID`` (and ``Global Key``, ``Benchmark ID``, ``Dataset Name``) of ``""``:
      null.
    * ``Label``: modern (see :func:`normalise_legacy_label`); unmapped parts go into
      ``Label.legacyUnmapped`` (kept by the v1 transform in ``labels.extra_json``).
    * ``Skipped`` (when the record has none): true for ``"Skip"``; for ``{}`` true in a
      modern-era record (the 2020+ convention) and false in a legacy-era one (where skipping
      wrote ``"Skip"``, so ``{}`` is a submitted label with no annotations); false otherwise.

    ``legacy_era``: whether the record's *file* is from the legacy era (see
    :func:`is_legacy_file`); it decides what ``{}`` means. Default: :func:`is_legacy_record`
    of this record alone.

    ``embed``: write ``drift``/``missing``/layout into the record under ``Legacy
    Normalisation`` (kept in ``labels.extra_json``); default: only for legacy records.

    >>> n = normalise_record({"ID": "L", "Label": "Skip", "Seconds to Label": "3.5",
    ...     "External ID": ""})
    >>> r = n.record
    >>> r["DataRow ID"], r["Skipped"], r["Seconds to Label"], r["External ID"]
    ('L', True, 3.5, None)
    """
    if not isinstance(record, dict):
        raise TransformError("record is not an object")
    legacy = is_legacy_record(record)
    out = dict(record)
    label_id = record.get("ID")
    norm = normalise_legacy_label(
        record.get("Label"), label_id=label_id if isinstance(label_id, str) else None
    )
    if norm.layout not in ("modern", "empty"):  # {} and null stay as they are
        new_label: dict[str, Any] = copy.deepcopy(norm.label)
        if norm.unmapped:
            new_label["legacyUnmapped"] = norm.unmapped
        out["Label"] = new_label  # the original form is told by the layout (embedded below)
    missing = tuple(k for k in _ERA_KEYS if k not in record)
    drift = _normalise_values(record, out)
    if "DataRow ID" not in record and isinstance(label_id, str):
        out["DataRow ID"] = label_id
        drift["DataRow ID"] = None
    skipped = _skipped(record, norm, legacy if legacy_era is None else legacy_era)
    out["Skipped"] = skipped
    if embed if embed is not None else legacy:
        out["Legacy Normalisation"] = _embedding(norm, missing, drift)
    return NormalisedRecord(out, norm, legacy, skipped, drift, missing)


def _normalise_values(record: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Numbers as strings, -1 scores and "" texts normalised in ``out``; the originals."""
    drift: dict[str, Any] = {}
    for key in _NUMBER_KEYS:
        value = record.get(key)
        if value is not None:
            new = _number(value)
            if type(new) is not type(value) or new != value:
                out[key] = new
                if isinstance(value, str):
                    drift[key] = value
    for key in _SENTINEL_KEYS:
        value = record.get(key)
        if not isinstance(value, bool) and value == -1:
            out[key] = None
            drift[key] = value
    for key in _TEXT_KEYS:
        if record.get(key, _MISSING) == "":
            out[key] = None
            drift[key] = ""
    return drift


def _skipped(record: dict[str, Any], norm: NormalisedLabel, legacy_era: bool) -> Any:
    """An explicit ``Skipped`` wins; "Skip" is skipped; ``{}`` is skipped outside the legacy
    era only."""
    if "Skipped" in record:
        return record["Skipped"]
    if norm.skipped:
        return True
    return not legacy_era if norm.empty else False


def _embedding(
    norm: NormalisedLabel, missing: tuple[str, ...], drift: dict[str, Any]
) -> dict[str, Any]:
    info: dict[str, Any] = {"layout": norm.layout}
    if norm.entry_layouts:
        info["entries"] = norm.entry_layouts
    if missing:
        info["missing"] = list(missing)
    if drift:
        info["original"] = drift
    if norm.synthetic_ids:
        info["syntheticFeatureIds"] = True
    return info
