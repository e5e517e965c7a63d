"""The doctests of the transform modules and the JSON splitter run as unit tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.unit

MODULES = [
    "labelbox_provider.io.jsonstream",
    "labelbox_provider.transforms.common",
    "labelbox_provider.transforms.classifications",
    "labelbox_provider.transforms.objects",
    "labelbox_provider.transforms.v1",
    "labelbox_provider.transforms.v2",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no doctest"
    assert result.failed == 0
