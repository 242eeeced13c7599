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


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--host", "127.0.0.2"], "refusing to listen on 127.0.0.2 without authentication"),
        (["--host", "localhost"], "refusing to listen on localhost without authentication"),
        (["--require-auth"], "--require-auth is set, but nobody could log in"),
        (["--trusted-proxy", "127.0.0.1"], "behind a trusted proxy a login is required"),
        (["--trusted-proxy", "proxy.example"], "trusted proxy must be an IP address or network"),
    ],
)
def test_serve_refuses_without_a_way_to_log_in(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    env = {"IKAROS_DATABASE_URL": "", "IKAROS_TOKEN": ""}
    line = one_error_line(_run(["serve", "--data-dir", str(tmp_path / "d"), *args], env=env))
    assert expected in line and "Remedy" in line
    assert "ikaros user add" in line or "trusted proxy" in line


def test_user_passwd(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "d"), "--password-stdin"]
    env = {"IKAROS_DATABASE_URL": ""}
    line = one_error_line(_run(["user", "passwd", "nobody", *data], env=env, stdin="long enough\n"))
    assert "there is no user account 'nobody'" in line and "ikaros user add" in line
    line = one_error_line(_run(["user", "passwd", "local", *data], env=env, stdin="long enough\n"))
    assert "there is no user account 'local'" in line
    assert _run(["user", "add", "alice", *data], env=env, stdin="first password\n").exit_code == 0  # type: ignore[attr-defined]
    line = one_error_line(_run(["user", "passwd", "alice", *data], env=env, stdin="short\n"))
    assert "shorter than 8 characters" in line
    run = _run(["user", "passwd", "alice", *data], env=env, stdin="second password\n")
    assert run.exit_code == 0, run.output  # type: ignore[attr-defined]
    assert "password of 'alice' changed; 0 session(s) ended" in run.output  # type: ignore[attr-defined]
    from ikaros.web.auth import authenticate
    from ikaros.web.db import Database

    db = Database(f"sqlite:///{tmp_path / 'd' / 'ikaros.db'}")
    try:
        with db.session() as s:
            assert authenticate(s, "alice", "second password") is not None
            assert authenticate(s, "alice", "first password") is None
    finally:
        db.dispose()
