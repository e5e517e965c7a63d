"""The emulator's HTTP server: the Labelbox API over the simulated world.

``runner`` holds `EmulatorServer` (the server in a background thread); ``app`` is the ASGI
application. GraphQL: ``graphql_parser`` reads the queries, ``resolvers`` answers them, with
``filters`` (export filters), ``tasks`` (export v2 tasks and streams) and ``errors`` (error answers
shaped like the real API's). Files: ``exports`` (export jobs rendered to spool files),
``downloads``, ``signing`` (signed URLs), ``responses`` (fault answers, byte ranges). ``state`` is
one server's shared state and ``control`` its ``/_emulator`` endpoint.
"""

from __future__ import annotations

from labelbox_provider.emulator.server.runner import EmulatorServer

__all__ = ["EmulatorServer"]
