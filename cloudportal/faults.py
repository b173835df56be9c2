"""Named pause points in long jobs, for the fault tests alone.

`fault_pause("export.category_written")` does nothing unless the setting
FAULT_PAUSE_DIR names a directory, which only the test settings set (from
TEST_FAULT_PAUSE_DIR, given to the worker processes the fault tests start); base and
production settings do not define it. When it is set and the file `<name>.hold`
exists in it, the process writes its pid into `<name>.reached` and waits (at most a
minute) until the hold file is removed: the test then kills exactly that process in
the middle of the job (cloudportal/testing/faults.py, `PausePoints`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

#: The longest a pause holds a job, whatever the test does.
PAUSE_MAX_SECONDS = 60


def fault_pause(name: str) -> None:
    directory = getattr(settings, "FAULT_PAUSE_DIR", "")
    if not directory:
        return
    hold = Path(directory) / f"{name}.hold"
    if not hold.exists():
        return
    (Path(directory) / f"{name}.reached").write_text(str(os.getpid()))
    deadline = time.monotonic() + PAUSE_MAX_SECONDS
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
