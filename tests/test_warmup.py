"""The background import of the modelling libraries: it loads them, and a failure stays quiet."""

from __future__ import annotations

import subprocess
import sys

from segwise.service.warmup import warm


def test_warm_loads_the_modules_in_a_fresh_process() -> None:
    code = (
        "import sys\n"
        "from segwise.service.warmup import warm\n"
        "warm().join(120)\n"
        "print(all(m in sys.modules for m in ('sklearn.cluster', 'skops.io')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_a_module_that_cannot_be_imported_ends_the_thread_without_raising() -> None:
    thread = warm(("segwise_no_such_module", "json"))
    thread.join(30)
    assert not thread.is_alive()
    assert "segwise_no_such_module" not in sys.modules


def test_warming_freezes_the_imported_objects_once_and_leaves_the_collector_on() -> None:
    code = (
        "import gc\n"
        "from segwise.service.warmup import warm\n"
        "before = gc.get_freeze_count()\n"
        "warm().join(120)\n"
        "frozen = gc.get_freeze_count()\n"
        "warm(('json',)).join(30)\n"
        "print(before, frozen > 10_000, gc.get_freeze_count() == frozen, gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "True", "True", "True"]
