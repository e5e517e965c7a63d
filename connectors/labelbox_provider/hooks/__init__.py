"""The hook: the only code that talks to the Labelbox API."""

from __future__ import annotations
