"""Run every benchmark of this folder (``make bench``): each ``bench_*.py`` in its own process.

Each script regenerates its own section of ``docs/benchmarks.md``; see their docstrings for
options (sizes, repeats). ``bench_scale.py`` is the long one: it writes a 100M-line log
(~0.9 GB in ``benchmarks/data/``) and runs each tool on it (~30 min on 2 cores).
Exit status 1 if any of them failed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    failed = []
    for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        print(f"== {script.name}", file=sys.stderr, flush=True)
        if subprocess.run([sys.executable, str(script)], check=False).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
