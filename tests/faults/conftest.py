from __future__ import annotations

import pytest

from medbook.jobs import ensure_periodic_tasks
from tests.faults.harness import new_clinic


@pytest.fixture
def clinic(levels):
    """Proxies in front of the services; each test starts the processes it needs."""
    ensure_periodic_tasks()  # beat's jobs (the tables are emptied between tests)
    clinic = new_clinic()
    yield clinic
    clinic.stop()
