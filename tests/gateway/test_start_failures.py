"""A database that is damaged, or a disk that is full, stops `rtcc-gateway serve` at once: exit
non-zero, one line naming the file and what to do, nothing listening, no traceback.

It used to print "database disk image is malformed" without the file, listen on nothing and
never exit; a damaged middle page was not noticed at all until `audit verify`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ..conftest import OWNER_TOKEN
from ..peers.gateway_proc import start_gateway
from .fs import fill, mounted_tmpfs

PAGE = 4096


async def serve(config_path: Path) -> subprocess.CompletedProcess[str]:
    """`serve` as the user runs it; a start that hangs fails the test through the timeout."""
    return await asyncio.to_thread(
        subprocess.run,
        ["rtcc-gateway", "serve", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def a_used_database(config_path: Path, config: dict[str, Any], db: Path) -> None:
    """Run the gateway once with enough records to span many pages, and stop it cleanly."""
    gw = await start_gateway(config_path)
    auth = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    push = {"policy": config["policy"], "cameras": config["cameras"]}
    try:
        async with aiohttp.ClientSession(headers=auth) as session:
            for _ in range(150):  # each push is an audit record
                url = f"http://127.0.0.1:{gw.owner_port}/api/v1/policy"
                async with session.put(url, json=push) as resp:
                    assert resp.status == 200
    finally:
        assert await gw.stop() == 0
    assert (await asyncio.to_thread(db.stat)).st_size >= 8 * PAGE


def audit_leaf_in_the_middle(db: Path) -> int:
    """The number of a page holding audit records that no start-up query needs to read."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        pages = [
            int(r[0])
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'audit' AND pagetype = 'leaf' "
                "ORDER BY pageno"
            )
        ]
    assert len(pages) >= 5, pages
    return pages[len(pages) // 2]


def overwrite(path: Path, offset: int, length: int) -> None:
    with path.open("r+b") as out:
        out.seek(offset)
        out.write(bytes((i * 7 + 13) % 256 for i in range(length)))


def assert_refused(result: subprocess.CompletedProcess[str], db: Path, what: str) -> None:
    assert result.returncode != 0
    assert result.stdout == "", "nothing may listen"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(db) in lines[0]
    assert what in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        ("last_page", "is not a usable rtcc_share database"),
        ("page_2", "is not a usable rtcc_share database"),
        # A leaf in the middle of the audit table: no start-up query reads it, only the check.
        ("middle_page", "is not a usable rtcc_share database"),
        ("header", "is not a usable rtcc_share database"),
    ],
)
async def test_a_damaged_database_stops_the_start_at_once(  # noqa: PLR0917 - fixtures
    socket_enabled: None,
    write_config: Callable[[Any], Path],
    config_dict: dict[str, Any],
    tmp_path: Path,
    damage: str,
    what: str,
) -> None:
    path = write_config(config_dict)
    db = tmp_path / "data" / "gateway.db"
    await a_used_database(path, config_dict, db)
    size = db.stat().st_size
    if damage == "last_page":
        overwrite(db, size - PAGE, PAGE)
    elif damage == "page_2":
        overwrite(db, PAGE, PAGE)
    elif damage == "middle_page":
        overwrite(db, (audit_leaf_in_the_middle(db) - 1) * PAGE, PAGE)
    else:
        overwrite(db, 0, 100)
    damaged = db.read_bytes()
    result = await serve(path)
    assert_refused(result, db, what)
    assert "move it aside" in result.stderr
    assert db.read_bytes() == damaged, "the damaged file is left for the owner"


async def test_a_full_disk_at_start_stops_the_start_at_once(
    socket_enabled: None,
    write_config: Callable[[Any], Path],
    config_dict: dict[str, Any],
    tmp_path: Path,
) -> None:
    with mounted_tmpfs(tmp_path / "disk", size_kib=8192) as disk:
        config_dict["data_dir"] = str(disk / "data")
        path = write_config(config_dict)
        db = disk / "data" / "gateway.db"
        await a_used_database(path, config_dict, db)
        fill(disk)
        result = await serve(path)
        assert_refused(result, db, "the disk is full")


async def test_a_full_disk_before_the_first_start_names_the_reserve(
    socket_enabled: None,
    write_config: Callable[[Any], Path],
    config_dict: dict[str, Any],
    tmp_path: Path,
) -> None:
    with mounted_tmpfs(tmp_path / "disk", size_kib=2048) as disk:
        config_dict["data_dir"] = str(disk / "data")
        (disk / "data").mkdir()
        fill(disk)
        result = await serve(write_config(config_dict))
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("data_dir: ")
    assert str(disk / "data") in line
    assert "free space" in line
