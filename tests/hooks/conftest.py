"""Fixtures of the hook tests: a hook whose session talks to a fake wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labelbox_provider.hooks.labelbox import LabelboxHook

from .hook_fakes import KEY, FakeAPI, set_connection


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LabelboxHook, FakeAPI]]:
    """A hook whose session talks to a :class:`FakeAPI` adapter."""
    set_connection(monkeypatch, "http://api.fake.test/graphql", KEY)
    hook = LabelboxHook()
    api = FakeAPI()
    hook.transport.session.mount("http://", api)
    yield hook, api
    hook.transport.close()
