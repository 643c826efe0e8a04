"""`python -m synfinance ...`: the same commands as the `synfinance` script (and a `ray job submit` entry point).

    ray job submit --working-dir . -- python -m synfinance generate transactions \\
        --count 10000000 --workers 8 --out /data/ds

Inside a job RAY_ADDRESS names the cluster, so `--workers K` joins it instead of starting a local Ray.
"""

from synfinance.cli import main

if __name__ == "__main__":
    main()
