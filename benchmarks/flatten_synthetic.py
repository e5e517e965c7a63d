"""Write a synthetic export v1 file: N labels, ~10 objects, 3 classifications, 1-2 reviews each.

The layout is the export server's (a JSON array, one record per line) and the records carry
what real 2021+ records carry (signed asset URLs, an ``instanceURI`` JWT per object, nested
classifications), so a label weighs about 8.5 KB: 200,000 labels make about 1.7 GB. Written
in a stream, deterministic for a given seed.

    python benchmarks/flatten_synthetic.py --labels 200000 --out /tmp/v1_200k.json
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import msgspec

_ENC = msgspec.json.Encoder()
_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "x" * 150 + "." + "s" * 43


def _cuid(rng: random.Random) -> str:
    return "c" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=24))


def _points(rng: random.Random, n: int) -> list[dict[str, float]]:
    return [
        {"x": round(rng.uniform(0, 4000), 3), "y": round(rng.uniform(0, 3000), 3)} for _ in range(n)
    ]


def _answer(rng: random.Random, title: str) -> dict[str, Any]:
    return {"featureId": _cuid(rng), "schemaId": _cuid(rng), "title": title, "value": title}


def _object(rng: random.Random, k: int) -> dict[str, Any]:
    fid = _cuid(rng)
    obj: dict[str, Any] = {
        "featureId": fid,
        "schemaId": _cuid(rng),
        "color": "#ff0000",
        "title": ("car", "person", "tree", "sign")[k % 4],
        "value": "tool",
    }
    shape = k % 4
    if shape == 0:
        obj["bbox"] = {
            "top": rng.randint(0, 3000),
            "left": rng.randint(0, 4000),
            "height": rng.randint(5, 500),
            "width": rng.randint(5, 500),
        }
    elif shape == 1:
        obj["polygon"] = _points(rng, rng.randint(8, 14))
    elif shape == 2:
        obj["line"] = _points(rng, rng.randint(3, 6))
    else:
        obj["point"] = _points(rng, 1)[0]
    obj["instanceURI"] = f"https://api.labelbox.com/masks/feature/{fid}?token={_JWT}"
    if k % 3 == 0:
        obj["classifications"] = [{**_answer(rng, "occluded"), "answer": _answer(rng, "yes")}]
    return obj


def record(rng: random.Random, i: int) -> dict[str, Any]:
    """One synthetic v1 label record."""
    label_id, row_id = _cuid(rng), _cuid(rng)
    n_reviews = 1 + (i % 2)
    return {
        "ID": label_id,
        "DataRow ID": row_id,
        "DataRow Metadata": [],
        "Media Attributes": {"mimeType": "image/jpeg", "width": 4000, "height": 3000},
        "Labeled Data": f"https://storage.labelbox.com/ckk4q1vgapsau07324awnsjq2%2F{row_id}-img"
        f"{i}.jpg?Expires=1630706709794&KeyName=labelbox-assets-key-3&Signature=W8RPYzKo1Qs6Q",
        "Label": {
            "objects": [_object(rng, k) for k in range(10)],
            "classifications": [
                {**_answer(rng, "weather"), "answer": _answer(rng, "sunny")},
                {**_answer(rng, "tags"), "answers": [_answer(rng, "a"), _answer(rng, "b")]},
                {**_answer(rng, "note"), "answer": f"free text note {i}"},
            ],
            "relationships": [],
        },
        "Created By": "labeler@example.com",
        "Project Name": "synthetic",
        "Created At": "2021-07-15T22:57:30.000Z",
        "Updated At": "2021-07-15T22:57:30.268Z",
        "Seconds to Label": round(rng.uniform(5, 300), 3),
        "External ID": f"img{i}.jpg",
        "Agreement": -1,
        "Benchmark Agreement": -1,
        "Benchmark ID": None,
        "Dataset Name": "synthetic dataset",
        "Reviews": [
            {
                "score": 1,
                "id": _cuid(rng),
                "createdAt": "2021-11-11T19:21:13.000Z",
                "createdBy": "reviewer@example.com",
                "labelId": label_id,
            }
            for _ in range(n_reviews)
        ],
        "View Label": f"https://editor.labelbox.com?project=cksynthproject0000000000&label={label_id}",
        "Has Open Issues": 0,
        "Skipped": False,
        "Data Split": None,
    }


def write_export(path: Path, labels: int, seed: int = 0) -> int:
    """Write the file; returns its size in bytes."""
    rng = random.Random(seed)
    with path.open("wb") as out:
        out.write(b"[\n")
        for i in range(labels):
            out.write(_ENC.encode(record(rng, i)))
            out.write(b",\n" if i < labels - 1 else b"\n")
        out.write(b"]\n")
    return path.stat().st_size


def main() -> None:
    """Command line: --labels N --out PATH [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    size = write_export(args.out, args.labels, args.seed)
    print(f"wrote {args.labels} labels, {size / 1e6:.1f} MB to {args.out}")


if __name__ == "__main__":
    main()
