"""A PostgreSQL streaming read replica of the test run's server, on this machine, for the tests.

`ReplicaCluster.start()` copies the running server with `pg_basebackup -R` (as the README's "A
read replica" does by hand) into a temporary data directory owned by the postgres user, writes it
a configuration of its own (its own port and socket directory; Debian keeps the server's
configuration outside the data directory, so the copy has none), starts it with `pg_ctl` as
postgres, and waits until it has replayed everything. `stop()` stops it and removes the directory.

Needs: the server on this machine, `pg_basebackup`/`pg_ctl` of the server's major version, a
pg_hba.conf line allowing replication connections from 127.0.0.1 (`.ci/run` adds one), and root
(runs the server's commands with `runuser -u postgres`), the postgres user itself, or `sudo -n -u postgres`.
"""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Settings a hot standby must have at least as high as its primary's, or it refuses to start.
AT_LEAST_THE_PRIMARY_S = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
START_TIMEOUT = 60


class ReplicaUnavailable(Exception):
    """This machine cannot run a replica of the server (the message says why and how to fix it)."""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres():
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    if getpass.getuser() == "postgres":
        return []
    return ["sudo", "-n", "-u", "postgres", "--"]


def _lsn(text):
    upper, _, lower = text.partition("/")
    return (int(upper, 16) << 32) | int(lower, 16)


class ReplicaCluster:
    def __init__(self, *, primary):
        """primary: a psycopg connection (autocommit) to the server to copy, as a superuser."""
        self.primary = primary
        info = primary.info
        if info.host not in ("127.0.0.1", "localhost", "::1") and not info.host.startswith("/"):
            raise ReplicaUnavailable(f"the server at {info.host} is not on this machine")
        self.primary_host, self.primary_port, self.primary_user = info.host, info.port, info.user
        major = info.server_version // 10000
        bindir = Path(f"/usr/lib/postgresql/{major}/bin")  # Debian's layout; else what is on PATH
        self.pg_basebackup = str(bindir / "pg_basebackup") if bindir.exists() else shutil.which("pg_basebackup")
        self.pg_ctl = str(bindir / "pg_ctl") if bindir.exists() else shutil.which("pg_ctl")
        if not (self.pg_basebackup and self.pg_ctl):
            raise ReplicaUnavailable(f"needs pg_basebackup and pg_ctl of PostgreSQL {major}")
        self.port = _free_port()
        self.directory = None
        self.started = False

    @property
    def data(self):
        return self.directory / "data"

    def _run(self, *command, input=None):
        completed = subprocess.run(
            [*_as_postgres(), *command], input=input, capture_output=True, text=True, timeout=600, check=False
        )
        if completed.returncode != 0:
            raise ReplicaUnavailable(f"{' '.join(command[:2])} failed: {completed.stderr.strip() or completed.stdout}")
        return completed.stdout

    def start(self):
        self.directory = Path(tempfile.mkdtemp(prefix="o2o-replica-"))
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        else:
            self.directory.chmod(0o777)  # postgres writes the copy here; the directory is the test's
        self._run(
            self.pg_basebackup,
            f"--host={self.primary_host}",
            f"--port={self.primary_port}",
            f"--username={self.primary_user}",
            f"--pgdata={self.data}",
            "--wal-method=stream",
            "--write-recovery-conf",  # standby.signal and primary_conninfo: a streaming standby
            "--checkpoint=fast",
            "--no-sync",  # a throwaway copy: no need to wait for the disk
        )
        settings = {
            name: self.primary.execute(f"SHOW {name}").fetchone()[0]  # noqa: S608 (names above)
            for name in AT_LEAST_THE_PRIMARY_S
        }
        config = "\n".join(
            [
                f"port = {self.port}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{self.directory}'",
                "hot_standby = on",
                "fsync = off",
                "shared_buffers = 32MB",
                *(f"{name} = {value}" for name, value in settings.items()),
            ]
        )
        self._run("tee", str(self.data / "postgresql.conf"), input=config + "\n")
        self._run("tee", str(self.data / "pg_hba.conf"), input="local all all trust\nhost all all 127.0.0.1/32 trust\n")
        log = str(self.directory / "server.log")
        self._run(self.pg_ctl, "start", "-D", str(self.data), "-l", log, "-w", "-t", str(START_TIMEOUT))
        self.started = True

    def connect(self, dbname="postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.primary_user, dbname=dbname, autocommit=True)

    def wait_until_caught_up(self, timeout=START_TIMEOUT):
        """Until the replica has replayed everything the primary had written when this was called."""
        target = _lsn(self.primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect() as connection:
                    replayed = connection.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()[0]
                if replayed and _lsn(replayed) >= target:
                    return
            except Exception:  # noqa: BLE001 (still starting: retried until the deadline)
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise ReplicaUnavailable(f"the replica did not catch up within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def log(self):
        try:
            return (self.directory / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.started:
            subprocess.run(
                [*_as_postgres(), self.pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w"],
                capture_output=True,
                timeout=60,
                check=False,
            )
            self.started = False
        if self.directory is not None:
            # A copy of the whole server takes a while to delete on a busy disk: the test does not
            # wait for it (the server is stopped; nothing uses the directory any more).
            subprocess.Popen(  # noqa: S603
                [*_as_postgres(), "rm", "-rf", str(self.directory)]
                if os.geteuid() == 0
                else ["sh", "-c", f'{" ".join(_as_postgres())} rm -rf "{self.data}"; rm -rf "{self.directory}"'],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.directory = None
