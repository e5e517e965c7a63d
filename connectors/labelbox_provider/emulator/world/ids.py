"""Deterministic, cuid-looking identifiers for the simulated world.

Labelbox ids are 25-character cuids (``c`` + 24 lowercase base-36 characters). The emulator
needs ids that are (1) a pure function of the seed, (2) cheap to make by the million and
(3) for labels and data rows, *invertible*, so a test can name a label by its id without the
world keeping a million-entry dictionary. An invertible id is laid out as::

    c | tag (6) | scrambled index (8, base 36) | check (10)

``tag`` names the seed, project and kind; ``check`` is a hash of everything, so a mistyped id
is rejected instead of silently naming another entity.
"""

from __future__ import annotations

import hashlib
import uuid

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_INDEX_WIDTH = 8  # base-36 digits for an entity index: up to 2.8e12 entities per kind
_TAG_WIDTH = 6  # base-36 digits naming (seed, project, kind)
_CHECK_WIDTH = 10  # base-36 digits of the checksum
_MODULUS = 36**_INDEX_WIDTH  # index space
_MULTIPLIER = 2_654_435_761  # prime, coprime with 36: scrambles consecutive indexes
_INVERSE = pow(_MULTIPLIER, -1, _MODULUS)


def b36(number: int, width: int) -> str:
    """``number`` in base 36, zero-padded (or cut to its low digits) to ``width``."""
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        digits.append(_ALPHABET[rem])
    return "".join(reversed(digits))


def digest(*parts: object) -> int:
    """A stable 128-bit integer hash of ``parts`` (their ``str`` joined by ``|``)."""
    data = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


def hashed_id(*parts: object) -> str:
    """A cuid-looking id that is a pure function of ``parts`` (not invertible)."""
    return "c" + b36(digest(*parts), 24)


def hashed_uuid(*parts: object) -> str:
    """A UUID-formatted id (workflow task ids, batch ids, token ids are UUIDs in real exports)."""
    data = "|".join(str(p) for p in parts).encode()
    return str(uuid.UUID(bytes=hashlib.blake2b(data, digest_size=16).digest()))


class EntityIds:
    """Invertible ids for one kind of entity (labels or data rows) of one project."""

    def __init__(self, seed: int, project_key: str, kind: str) -> None:
        self._salt = f"{seed}|{project_key}|{kind}"
        self.tag = b36(digest(self._salt), _TAG_WIDTH)
        self._offset = digest(self._salt, "offset") % _MODULUS

    def make(self, index: int) -> str:
        """The id of entity number ``index``."""
        scrambled = (index * _MULTIPLIER + self._offset) % _MODULUS
        check = b36(digest(self._salt, index), _CHECK_WIDTH)
        return "c" + self.tag + b36(scrambled, _INDEX_WIDTH) + check

    def parse(self, entity_id: str) -> int | None:
        """The index named by ``entity_id``, or None when it is not an id of this kind."""
        if len(entity_id) != 25 or not entity_id.startswith("c" + self.tag):
            return None
        start = 1 + _TAG_WIDTH
        try:
            scrambled = int(entity_id[start : start + _INDEX_WIDTH], 36)
        except ValueError:
            return None
        index = (scrambled - self._offset) * _INVERSE % _MODULUS
        return index if self.make(index) == entity_id else None


def feature_id_base(label_id: str, version: int) -> str:
    """The 20-character stem of every feature id of one content version of a label."""
    return "c" + b36(digest(label_id, version), 19)


_SUFFIXES = [b36(n, 5) for n in range(1024)]  # precomputed ordinals (hot path)


def feature_id(base: str, ordinal: int) -> str:
    """Feature number ``ordinal`` of a content version (see :func:`feature_id_base`)."""
    return base + (_SUFFIXES[ordinal] if ordinal < 1024 else b36(ordinal, 5))
