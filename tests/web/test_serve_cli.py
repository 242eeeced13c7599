"""Bad input to ``ikaros serve`` and ``ikaros user add``: one error line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ikaros.cli import app
from tests.conftest import one_error_line


def _run(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> object:
    return CliRunner().invoke(app, args, env=env, input=stdin)


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "not-a-dir"
    f.write_text("x")
    line = one_error_line(_run(["serve", "--data-dir", str(f)], env={"IKAROS_DATABASE_URL": ""}))
    assert str(f) in line and "not a directory" in line and "Remedy" in line
    assert f.read_text() == "x"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:p@127.0.0.1/db", "unsupported database 'mysql'"),
        ("not a url", "cannot be parsed"),
        ("postgresql+psycopg://u:p@127.0.0.1:1/db", "cannot open the database"),
    ],
)
def test_bad_database_url(tmp_path: Path, url: str, expected: str) -> None:
    line = one_error_line(
        _run(["serve", "--data-dir", str(tmp_path / "d")], env={"IKAROS_DATABASE_URL": url})
    )
    assert expected in line and "Remedy" in line
    assert "u:p" not in line  # the password is never echoed


def test_non_positive_upload_limit(tmp_path: Path) -> None:
    line = one_error_line(
        _run(["serve", "--data-dir", str(tmp_path / "d"), "--max-upload-mb", "0"])
    )
    assert "upload limit must be positive" in line


@pytest.mark.parametrize(
    ("name", "password", "expected"),
    [
        ("alice", "short", "shorter than 8 characters"),
        ("local", "long enough pw", "not allowed"),
        ("bad name/", "long enough pw", "not allowed"),
    ],
)
def test_user_add_rejects(tmp_path: Path, name: str, password: str, expected: str) -> None:
    args = ["user", "add", name, "--data-dir", str(tmp_path / "d"), "--password-stdin"]
    line = one_error_line(_run(args, env={"IKAROS_DATABASE_URL": ""}, stdin=password + "\n"))
    assert expected in line


def test_user_add_twice(tmp_path: Path) -> None:
    args = ["user", "add", "alice", "--data-dir", str(tmp_path / "d"), "--password-stdin"]
    env = {"IKAROS_DATABASE_URL": ""}
    assert _run(args, env=env, stdin="correct horse\n").exit_code == 0  # type: ignore[attr-defined]
    line = one_error_line(_run(args, env=env, stdin="correct horse\n"))
    assert "exists already" in line
