"""The one atomic file writer: what a durations table, a hand-off, a certificate and an outbox message share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapsheets.adapters import files


def test_the_data_is_on_disk_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A power cut after the rename must not leave an empty file: the temporary is flushed to disk first."""
    order: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append("replace"), real_replace(a, b))[1])
    target = tmp_path / "durations.csv"
    files.write_text_atomic(target, "stage,days\nDiscovery,5\n")
    assert order == ["fsync", "replace"]
    assert target.read_text("utf-8") == "stage,days\nDiscovery,5\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.md"
    target.write_text("before", "utf-8")
    with pytest.raises(TypeError):
        files.write_atomic(target, 3)  # type: ignore[arg-type]
    assert target.read_text("utf-8") == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]
