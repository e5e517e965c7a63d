"""A local emulator of the Labelbox export API (simulated world, clock, faults).

It shares no code with the hook or the transforms: the spec is what they share.
"""

from __future__ import annotations
