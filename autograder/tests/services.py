"""Real services for the tests: a PostgreSQL server and a Dask cluster, on 127.0.0.1, in temporary folders.

Each is started by a session fixture (``conftest.py``) in the pytest process that needs it, on
free ports, so pytest-xdist workers never share one, and stopped at the end. Only processes
started here are ever stopped here.

Also usable by hand::

    .venv/bin/python -m autograder.tests.services postgres   # prints a URL, stops on Ctrl-C
    .venv/bin/python -m autograder.tests.services dask 2     # prints tcp://127.0.0.1:PORT
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_PASSWORD = "autograder-test-secret-3141"
"""The test server's superuser password (a throwaway server on 127.0.0.1; tests check it never leaks)."""


class ServiceUnavailable(RuntimeError):
    """The service cannot be started here (not installed, not root); the message says how to get it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- PostgreSQL

def postgres_bin(name: str) -> str:
    """The path of a PostgreSQL server program (``initdb``, ``pg_ctl``), newest version first."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not candidates:
        raise ServiceUnavailable(f"PostgreSQL's {name} is not installed: `apt-get install -y postgresql` "
                                 "(or `make system-deps` as root)")
    return candidates[-1]


@dataclass
class Postgres:
    """A running throwaway PostgreSQL server."""

    folder: Path
    port: int
    owner: str = "postgres"

    def url(self, database: str = "postgres", password: bool = True, driver: str = "postgresql") -> str:
        secret = f":{POSTGRES_PASSWORD}" if password else ""
        return f"{driver}://postgres{secret}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run SQL statements as the superuser, outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def new_database(self, name: str) -> str:
        """Create an empty database; return its URL (with the password)."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", self.owner, "--", postgres_bin("pg_ctl"), "-D", str(self.folder / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb + pg_ctl start as the ``postgres`` user (the server refuses root), on 127.0.0.1 and a free port."""
    if os.geteuid() != 0:
        raise ServiceUnavailable("starting a throwaway PostgreSQL server needs root (to run it as `postgres`)")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceUnavailable("there is no `postgres` user: `apt-get install -y postgresql`") from None
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    folder = Path(tempfile.mkdtemp(prefix="autograder-postgres-"))
    shutil.chown(folder, "postgres", "postgres")
    password_file = folder / "password"
    password_file.write_text(POSTGRES_PASSWORD + "\n")
    shutil.chown(password_file, "postgres", "postgres")
    os.chmod(password_file, 0o600)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    made = subprocess.run(as_postgres + [initdb, "-D", str(folder / "data"), "-U", "postgres", "-E", "UTF8",
                                         f"--pwfile={password_file}", "--auth-host=scram-sha-256",
                                         "--auth-local=scram-sha-256", "--no-sync"],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServiceUnavailable(f"initdb failed: {made.stderr[-1500:]}")
    for _ in range(3):
        port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        started = subprocess.run(as_postgres + [pg_ctl, "-D", str(folder / "data"), "-l", str(folder / "log"),
                                                "-o", options, "-w", "-t", "60", "start"],
                                 capture_output=True, text=True, timeout=90)
        if started.returncode == 0:
            return Postgres(folder, port)
    log = (folder / "log").read_text(errors="replace")[-1500:] if (folder / "log").exists() else started.stderr
    shutil.rmtree(folder, ignore_errors=True)
    raise ServiceUnavailable(f"PostgreSQL did not start: {log}")


# --------------------------------------------------------------------------- Dask

@dataclass
class DaskCluster:
    """A running ``dask scheduler`` and its ``dask worker`` processes (no nanny: a killed worker stays dead)."""

    folder: Path
    port: int
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def add_worker(self) -> subprocess.Popen:
        """Start one more single-threaded worker."""
        dask = str(Path(sys.executable).parent / "dask")
        local = tempfile.mkdtemp(prefix="worker-", dir=self.folder)
        process = subprocess.Popen([dask, "worker", self.address, "--nthreads", "1", "--no-nanny",
                                    "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0",
                                    "--local-directory", local],
                                   env=_dask_env(), stdout=subprocess.DEVNULL, stderr=open(Path(local) / "log", "wb"),
                                   start_new_session=True)
        self.workers.append(process)
        return process

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one of this cluster's workers (and its sandboxes, which die with it)."""
        process = next(p for p in self.workers if p.pid == pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


ALLOWED_FAILURES = 1
"""The test scheduler's ``allowed-failures``: a task survives one killed worker, not two."""


def _dask_env() -> dict:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(ALLOWED_FAILURES),
                DASK_DISTRIBUTED__WORKER__DAEMON="False")


def start_dask(workers: int = 2) -> DaskCluster:
    """A scheduler on 127.0.0.1 (free port, no dashboard) and ``workers`` single-threaded workers."""
    dask = Path(sys.executable).parent / "dask"
    if not dask.exists():
        raise ServiceUnavailable(f"{dask} is missing: install the course with `pip install -e .` (distributed)")
    folder = Path(tempfile.mkdtemp(prefix="autograder-dask-"))
    port = free_port()
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard", "--no-show"],
                                 env=_dask_env(), stdout=subprocess.DEVNULL,
                                 stderr=open(folder / "scheduler.log", "wb"), start_new_session=True, cwd=folder)
    cluster = DaskCluster(folder, port, scheduler)
    for _ in range(workers):
        cluster.add_worker()
    try:
        wait_for_workers(cluster.address, workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def wait_for_workers(address: str, count: int, timeout_s: float = 120) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with Client(address, timeout=10, set_as_default=False) as client:
                client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else "postgres"
    service = start_postgres() if kind == "postgres" else start_dask(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    print(service.url(password=False) if kind == "postgres" else service.address, flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
