"""Run inside the SDK 7.x venv: drive the official SDK's streamable export against an emulator.

Usage: python sdk_v2_script.py '<json args>'; prints one JSON line with what the SDK received.
Args: url, api_key, project_id, filters, params (passed to ``project.export``).
"""

from __future__ import annotations

import json
import sys
import warnings


def main() -> None:
    args = json.loads(sys.argv[1])
    warnings.simplefilter("ignore")
    import labelbox
    from labelbox import StreamType

    client = labelbox.Client(api_key=args["api_key"], endpoint=args["url"])
    project = client.get_project(args["project_id"])
    task = project.export(filters=args.get("filters"), params=args.get("params"))
    task.wait_till_done(timeout_seconds=60)
    out: dict = {"sdk": labelbox.__version__, "status": task.status}
    out["has_result"] = task.has_result()
    out["has_errors"] = task.has_errors()
    rows: list = []
    if task.has_result():
        out["total_size"] = task.get_total_file_size(stream_type=StreamType.RESULT)
        out["total_lines"] = task.get_total_lines(stream_type=StreamType.RESULT)
        task.get_buffered_stream(stream_type=StreamType.RESULT).start(
            stream_handler=lambda output: rows.append(output.json)
        )
    errors: list = []
    if task.has_errors():
        task.get_buffered_stream(stream_type=StreamType.ERRORS).start(
            stream_handler=lambda output: errors.append(output.json)
        )
    out["rows"] = rows
    out["errors"] = errors
    print(json.dumps(out))


if __name__ == "__main__":
    main()
