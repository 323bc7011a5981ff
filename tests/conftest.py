"""Every test starts from structlog's defaults.

`logs.configure` binds the stderr of the moment; under pytest that is a capture file closed
after the test, so a later test logging through the global configuration would write to a
closed file.
"""

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    yield
    structlog.reset_defaults()
