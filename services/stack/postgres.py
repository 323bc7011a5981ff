"""A real PostgreSQL: the server named by DATABASE_URL, or a throwaway cluster under `.local/`.

initdb refuses to run as root, so as root the cluster belongs to an unprivileged user
(`postgres` when it exists, else `nobody`) and every server command runs as that user.
"""

import asyncio
import getpass
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.stack import roles
from services.stack.paths import local_dir

SUPERUSER = "courseflow"
DATABASE = "courseflow"


def server_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major_version)
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} was not found (install the server binaries)")
    return str(candidates[-1])


def _major_version(path: Path) -> int:
    try:
        return int(path.parent.parent.name)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class PostgresStack:
    home: Path
    port: int = 55432
    external_url: str | None = None
    # A crash test needs what production has: every commit on disk before it is acknowledged.
    durable: bool = False

    @classmethod
    def from_env(cls) -> "PostgresStack":
        return cls(
            home=local_dir() / "postgres",
            port=int(os.environ.get("COURSEFLOW_PG_PORT", "55432")),
            external_url=os.environ.get("DATABASE_URL") or None,
        )

    @property
    def url(self) -> str:
        return self.external_url or f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def service_url(self, service: str) -> str:
        """Where a service logs in as its own least-privilege role (local cluster: trust)."""
        if self.external_url:
            return self.external_url
        return f"postgresql://{roles.role_for(service)}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def owner(self) -> str:
        if os.geteuid() != 0:
            return getpass.getuser()
        for candidate in ("postgres", "nobody"):
            try:
                pwd.getpwnam(candidate)
            except KeyError:
                continue
            return candidate
        raise RuntimeError("running as root, but no unprivileged user to own the cluster")

    @property
    def data_dir(self) -> Path:
        """Inside `.local/`, unless the owner cannot reach it there (a 0700 parent, as root)."""
        if os.geteuid() != 0 or self._reachable_by_owner(self.home.parent):
            return self.home / "data"
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"courseflow-pg-{digest}" / "data"

    def _reachable_by_owner(self, directory: Path) -> bool:
        directory.mkdir(parents=True, exist_ok=True)
        probe = ["runuser", "-u", self.owner, "--", "test", "-x", str(directory)]
        return subprocess.run(probe, check=False, cwd="/").returncode == 0

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.owner, "--", *argv] if os.geteuid() == 0 else argv

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        argv = self._as_owner([server_bin("pg_ctl"), "-D", str(self.data_dir), *args])
        return subprocess.run(argv, check=check, stdout=subprocess.DEVNULL, cwd="/")

    def _init_cluster(self) -> None:
        data = self.data_dir
        if (data / "PG_VERSION").exists():
            return
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data.parent, self.owner)
            shutil.chown(data, self.owner)
        subprocess.run(
            self._as_owner([server_bin("initdb"), "-D", str(data), "-U", SUPERUSER,
                            "--auth=trust", "-E", "UTF8", "--no-instructions"]),
            check=True, stdout=subprocess.DEVNULL, cwd="/",
        )  # fmt: skip
        durability = (
            "fsync = on\nfull_page_writes = on\nsynchronous_commit = on\n"
            if self.durable
            else "fsync = off\nfull_page_writes = off\n"
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# courseflow throwaway cluster: loopback only"
                f"{'' if self.durable else ', durability traded for speed'}\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{data}'\nmax_connections = 200\n{durability}"
            )

    def up(self, timeout_s: float = 60.0) -> str:
        if self.external_url:
            version = server_version(self.url)
            return f"postgres {version} at DATABASE_URL (not managed here)"
        if self.answers():
            if (self.data_dir / "postmaster.pid").exists():
                asyncio.run(roles.provision(self.url, DATABASE))
                return f"postgres already running on 127.0.0.1:{self.port}"
            raise RuntimeError(
                f"port {self.port} answers but is not our cluster; stop it, set "
                "COURSEFLOW_PG_PORT, or name a server with DATABASE_URL"
            )
        self._init_cluster()
        log = self.data_dir.parent / "postgres.log"
        self._pg_ctl("-l", str(log), "-w", "-t", str(int(timeout_s)), "start")
        asyncio.run(_create_database(self.port))
        asyncio.run(roles.provision(self.url, DATABASE))
        return f"postgres {server_version(self.url)} up on 127.0.0.1:{self.port}"

    def down(self) -> str:
        if self.external_url:
            return "postgres at DATABASE_URL left running"
        if not (self.data_dir / "postmaster.pid").exists():
            return "postgres was not running"
        self._pg_ctl("-m", "fast", "-w", "stop", check=False)
        return "postgres stopped"

    def status(self) -> str:
        where = "DATABASE_URL" if self.external_url else f"127.0.0.1:{self.port}"
        return f"postgres: {where}, answering={self.answers()}"

    def answers(self) -> bool:
        try:
            server_version(self.url)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        return True


def server_version(url: str) -> str:
    async def ask() -> str:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(ask())


async def _create_database(port: int) -> None:
    conn = await asyncpg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
