"""Run inside the SDK 3.78.1 venv: drive the official SDK's export v1 against an emulator.

Usage: python sdk_v1_script.py '<json args>'; prints one JSON line with what the SDK received.
Args: url, api_key, project_id, mode ("export_labels" | "label_generator" | "get_project"),
kwargs (passed to the SDK method).
"""

from __future__ import annotations

import json
import sys
import warnings


def main() -> None:
    args = json.loads(sys.argv[1])
    warnings.simplefilter("ignore")
    import labelbox

    client = labelbox.Client(api_key=args["api_key"], endpoint=args["url"])
    project = client.get_project(args["project_id"])
    out: dict = {"sdk": labelbox.__version__, "project_name": project.name}
    mode = args["mode"]
    if mode == "export_labels":
        records = project.export_labels(download=True, **args.get("kwargs", {}))
        out["ids"] = [r["ID"] for r in records]
        out["records"] = records
    elif mode == "export_url":
        out["url"] = project.export_labels(download=False, **args.get("kwargs", {}))
    elif mode == "label_generator":
        labels = list(project.label_generator(**args.get("kwargs", {})))
        out["ids"] = [label.uid for label in labels]
        out["annotations"] = [len(label.annotations) for label in labels]
        out["data_types"] = sorted({type(label.data).__name__ for label in labels})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
