"""Entry point for `ray job submit`: the same `synfinance` commands, run as a Ray job's driver.

    ray job submit --working-dir . -- python -m actors.job generate transactions \\
        --count 10000000 --workers 8 --out /data/ds

Inside a job RAY_ADDRESS names the cluster, so `--workers K` joins it instead of starting a local Ray.
"""

from __future__ import annotations

import sys

from synfinance.cli import main

if __name__ == "__main__":
    main(sys.argv[1:])
