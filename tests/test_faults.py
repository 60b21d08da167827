"""Faults: a killed load, a full disk, a folder that cannot be written, a missing or damaged database, and
a reload under traffic. The previous data keeps serving, messages say what happened, nothing crashes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import PROJECT_DIR, Settings, load_settings
from bench.corpus import generate
from tests.conftest import REAL_SEEDS, copy_seeds
from tests.live_server import live_server

pytestmark = pytest.mark.slow


def _load_command(seeds: Path, target: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app",
        "load",
        "--quiet",
        "--seeds",
        str(seeds),
        "--database-url",
        f"sqlite:///{target}",
    ]


def _load(seeds: Path, target: Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[no-any-return]
        _load_command(seeds, target),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        **options,  # type: ignore[call-overload]
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, Settings]:
    """A database built from the real seeds, and its settings."""
    target = tmp_path / "data" / "newsfacts.db"
    assert _load(REAL_SEEDS, target).returncode == 0
    return target, load_settings(database_url=f"sqlite:///{target}", seeds_dir=REAL_SEEDS)


@pytest.fixture(scope="module")
def big_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic corpus whose load lasts long enough to be interrupted."""
    return generate(tmp_path_factory.mktemp("big") / "seeds", 1500)


def _wait_for_writing(process: subprocess.Popen[str] | subprocess.Popen[bytes], target: Path) -> None:
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 1_000_000 for p in target.parent.glob("*.building")):
        assert process.poll() is None, "the load finished before it could be interrupted; use more seeds"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)": state, parent, ...
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_load_killed_midway_leaves_the_previous_database_serving(
    served: tuple[Path, Settings], big_seeds: Path
) -> None:
    target, settings = served
    before = _digest(target)
    with live_server(settings) as base:
        version = httpx.get(f"{base}/health").json()["dataset"]["version"]
        process = subprocess.Popen(
            _load_command(big_seeds, target),
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_writing(process, target)
        (writer,) = _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _gone(writer), "the process writing the file dies with the loader"
        assert _digest(target) == before
        health = httpx.get(f"{base}/health").json()
        assert health["dataset"]["version"] == version
        assert httpx.get(f"{base}/people/pavel-kulazhanka").json()["age"] == 36
    assert list(target.parent.glob("*.building")), "the killed load left its temporary file"
    assert _load(REAL_SEEDS, target).returncode == 0
    assert not list(target.parent.glob("*.building")), "the next load cleans up after a killed one"


def test_a_writing_process_that_dies_fails_the_load_with_a_clear_message(
    served: tuple[Path, Settings], big_seeds: Path
) -> None:
    # SQLite is written by a second process while the loader builds rows; losing it (the kernel's OOM
    # killer, say) must fail the load like any other failed write: a message, not a traceback or a hang.
    target, _ = served
    before = _digest(target)
    process = subprocess.Popen(
        _load_command(big_seeds, target),
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_writing(process, target)
    (writer,) = _children(process.pid)
    os.kill(writer, signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "the process writing the database was killed (signal 9)" in err
    assert "The previous database is untouched." in err
    assert "Traceback" not in err
    assert _digest(target) == before
    assert not list(target.parent.glob("*.building")), "a load that fails removes its temporary file"


def test_ctrl_c_stops_a_load_and_its_writing_process_and_changes_nothing(
    served: tuple[Path, Settings], big_seeds: Path
) -> None:
    target, _ = served
    before = _digest(target)
    process = subprocess.Popen(
        _load_command(big_seeds, target),
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job has
    )
    _wait_for_writing(process, target)
    (writer,) = _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: to every process of the group
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrupted; nothing was changed" in err
    assert "Traceback" not in err
    assert _gone(writer)
    assert _digest(target) == before
    assert not list(target.parent.glob("*.building"))


# A load whose one Ctrl-C reaches Python while an object is being finalised, where Python prints the
# KeyboardInterrupt as ignored and carries on.
_SWALLOWED_CTRL_C = """
import os, signal, sys
from app import cli, loader

class Finalised:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(10_000))  # Python takes the interrupt here, inside the finaliser

write_tables = loader._write_tables

def write_tables_after_ctrl_c(*args):
    Finalised()
    return write_tables(*args)

loader._write_tables = write_tables_after_ctrl_c
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_ctrl_c_that_python_swallowed_still_stops_the_load(served: tuple[Path, Settings]) -> None:
    target, _ = served
    before = _digest(target)
    command = [sys.executable, "-c", _SWALLOWED_CTRL_C, *_load_command(REAL_SEEDS, target)[3:]]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert "KeyboardInterrupt" in result.stderr  # Python's "Exception ignored in …": it was swallowed
    assert result.returncode == 130
    assert "interrupted; nothing was changed" in result.stderr
    assert _digest(target) == before
    assert not list(target.parent.glob("*.building"))


# A load whose Ctrl-C comes just after its point of no return (the rename that puts the new file in place).
_LATE_CTRL_C = """
import os, signal, sys, time
from app import cli, loader

point_of_no_return = loader._point_of_no_return

def point_of_no_return_then_ctrl_c():
    point_of_no_return()
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.1)

loader._point_of_no_return = point_of_no_return_then_ctrl_c
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_ctrl_c_after_the_new_file_is_ready_lets_the_load_finish_and_says_so(
    served: tuple[Path, Settings],
) -> None:
    target, _ = served
    before = target.stat().st_ino
    command = [sys.executable, "-c", _LATE_CTRL_C, *_load_command(REAL_SEEDS, target)[3:]]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "Ctrl-C came after the new data was in place: the load was completed" in result.stderr
    assert "interrupted; nothing was changed" not in result.stderr
    assert target.stat().st_ino != before  # the new file
    assert not list(target.parent.glob("*.building"))


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root; the RLIMIT_FSIZE variant below runs anywhere")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_full_disk_is_a_clear_message_and_changes_nothing(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "size=400k") as disk:
        target = disk / "newsfacts.db"
        previous = b"the previous database, left as it was"
        target.write_bytes(previous)
        result = _load(REAL_SEEDS, target)
        assert result.returncode == 1
        assert "load failed: no space left on the disk holding" in result.stderr
        assert "The previous database is untouched." in result.stderr
        assert "Traceback" not in result.stderr
        assert target.read_bytes() == previous
        assert [p.name for p in disk.iterdir() if "building" in p.name] == []


def test_a_file_size_limit_mid_write_is_a_clear_message(
    tmp_path: Path, served: tuple[Path, Settings]
) -> None:
    target, _ = served
    before = _digest(target)

    def limit() -> None:  # runs in the loader's process before it starts
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = _load(REAL_SEEDS, target, preexec_fn=limit)
    assert result.returncode == 1
    assert "refused a write (disk I/O error: full, over a size limit, or failing)" in result.stderr
    assert "The previous database is untouched." in result.stderr
    assert "[SQL:" not in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(target) == before


def test_a_read_only_folder_is_a_clear_message(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "readonly", "ro,size=1m") as folder:
        result = _load(REAL_SEEDS, folder / "newsfacts.db")
        assert result.returncode == 1
        assert f"load failed: cannot write in {folder}" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder; the tmpfs test covers root")
def test_an_unwritable_folder_is_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = _load(REAL_SEEDS, folder / "newsfacts.db")
        assert result.returncode == 1
        assert f"cannot write in {folder}" in result.stderr
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("damage", ["missing", "garbage", "empty", "not-ours", "older-schema"])
def test_a_missing_or_damaged_database_is_reported_not_crashed_on(tmp_path: Path, damage: str) -> None:
    target = tmp_path / "newsfacts.db"
    if damage == "older-schema":  # built by an earlier version of newsfacts
        assert _load(REAL_SEEDS, target).returncode == 0
        with sqlite3.connect(target) as connection:
            connection.execute("UPDATE dataset SET value = '0002' WHERE key = 'revision'")
    elif damage == "garbage":
        target.write_bytes(os.urandom(8192))
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "not-ours":
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sqlite3; sqlite3.connect({str(target)!r}).execute('CREATE TABLE t (x)')",
            ],
            check=True,
        )
    log = tmp_path / "server.log"
    with live_server(
        load_settings(database_url=f"sqlite:///{target}", seeds_dir=REAL_SEEDS), log=log
    ) as base:
        health = httpx.get(f"{base}/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert "python -m app load" in health.json()["database"]["error"]
        if damage == "older-schema":
            assert "schema revision 0002" in health.json()["database"]["error"]
        people = httpx.get(f"{base}/people")
        assert people.status_code == 503
        assert people.json()["code"] == "unavailable"
        assert "the database is not ready" in people.json()["detail"]
        assert httpx.get(f"{base}/docs").status_code == 200
    assert "Traceback" not in log.read_text()


def test_a_reload_under_traffic_is_picked_up_without_failing_a_request(
    tmp_path: Path, served: tuple[Path, Settings]
) -> None:
    target, settings = served
    new_seeds = copy_seeds(tmp_path / "seeds")  # the real article plus the tests' fixture article
    with live_server(settings) as base:
        old = httpx.get(f"{base}/health").json()["dataset"]["version"]
        old_etag = httpx.get(f"{base}/people").headers["etag"]
        statuses: list[int] = []
        stop = threading.Event()

        def traffic() -> None:
            with httpx.Client(base_url=base, timeout=10) as client:
                while not stop.is_set():
                    for path in ("/people", "/quotes?speaker=pavel-kulazhanka", "/search?q=putin", "/stats"):
                        statuses.append(client.get(path).status_code)

        workers = [threading.Thread(target=traffic) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        assert _load(new_seeds, target).returncode == 0
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        health = httpx.get(f"{base}/health").json()
        assert health["dataset"]["version"] != old
        assert health["dataset"]["counts"]["article"] == 2
        assert httpx.get(f"{base}/people").headers["etag"] != old_etag
        assert httpx.get(f"{base}/people/test-spokesman").status_code == 200
    assert len(statuses) > 50
    assert set(statuses) == {200}
