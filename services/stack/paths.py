"""Where the local stack keeps its files: `.local/` here, or COURSEFLOW_LOCAL_DIR."""

import os
from pathlib import Path


def local_dir() -> Path:
    configured = os.environ.get("COURSEFLOW_LOCAL_DIR")
    return Path(configured) if configured else Path.cwd() / ".local"
