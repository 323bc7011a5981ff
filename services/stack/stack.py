"""`courseflow stack up|down|status`: the local Kafka broker and PostgreSQL together."""

from services.stack import process
from services.stack.kafka import KafkaStack
from services.stack.paths import local_dir
from services.stack.postgres import PostgresStack


def up() -> list[str]:
    return [KafkaStack.from_env().up(), PostgresStack.from_env().up()]


def down() -> list[str]:
    """Stop the services started by `make run`, then the broker and the database."""
    pid_files = sorted((local_dir() / "run").glob("*.pid"))
    lines = [f"{p.stem} stopped" for p in pid_files if process.stop(p)]
    lines += [KafkaStack.from_env().down(), PostgresStack.from_env().down()]
    return lines


def status() -> list[str]:
    lines = [KafkaStack.from_env().status(), PostgresStack.from_env().status()]
    for pid_file in sorted((local_dir() / "run").glob("*.pid")):
        pid = process.read_pid(pid_file)
        lines.append(f"{pid_file.stem}: " + (f"pid {pid}" if pid else "not running"))
    return lines
