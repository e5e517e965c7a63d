"""``labelbox-export flatten PATH --out DIR``: format detection, output files, JSON counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from labelbox_provider.cli.main import main
from labelbox_provider.transforms import TABLES

pytestmark = pytest.mark.unit


REAL = pytest.mark.real_corpus


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("own", "v1_image.json", 3, 6), id="v1-array"),
        pytest.param(("own", "v1_text.json", 1, 2), id="v1-single-object"),
        pytest.param(("own", "v2_image.ndjson", 3, 7), id="v2-ndjson"),
        pytest.param(
            ("real", "v1_image_bbox_project_export_2020.json", 117, 798),
            id="real-v1-array",
            marks=REAL,
        ),
        pytest.param(("real", "v1_text_export.json", 1, 4), id="real-v1-object", marks=REAL),
        pytest.param(
            ("real", "v2_image_masks_full_details.ndjson", 53, 200), id="real-v2", marks=REAL
        ),
    ],
)
def test_flatten_prints_counts(
    case: tuple[str, str, int, int],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    where, name, labels, objects = case
    folder: Path = request.getfixturevalue(f"{where}_fixtures")
    assert main(["flatten", str(folder / name), "--out", str(tmp_path)]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert list(counts) == list(TABLES)
    assert (counts["labels"], counts["objects"]) == (labels, objects)
    for table in TABLES:
        assert pq.read_metadata(tmp_path / table / "part-00000.parquet").num_rows == counts[table]


def test_processes_option_splits_the_file(
    own_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = json.loads((own_fixtures / "v1_image.json").read_text()) * 10
    src = tmp_path / "export.json"
    src.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]")
    assert main(["flatten", str(src), "--out", str(tmp_path / "one"), "--processes", "1"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(["flatten", str(src), "--out", str(tmp_path / "two"), "--processes", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == one
    assert (tmp_path / "two" / "labels" / "part-50000.parquet").is_file()  # the worker's
    assert not (tmp_path / "one" / "labels" / "part-50000.parquet").exists()


def test_processes_option_takes_auto_1_or_2(
    own_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "flatten",
                str(own_fixtures / "v1_image.json"),
                "--out",
                str(tmp_path),
                "--processes",
                "3",
            ]
        )
    assert exit_.value.code == 2
    assert "--processes: invalid choice: '3'" in capsys.readouterr().err


def test_not_an_export_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "page.html"
    bad.write_text("<html></html>")
    assert main(["flatten", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "labelbox-export flatten" in capsys.readouterr().err


def test_console_script_entry_point(own_fixtures: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "labelbox-export"
    result = subprocess.run(
        [str(script), "flatten", str(own_fixtures / "v1_pdf.json"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1])["objects"] == 3
