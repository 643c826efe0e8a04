"""SynFinance: synthetic Indian retail-banking transactions with labelled fraud, at scale.

    >>> import synfinance
    >>> table = synfinance.generate(count=1000, seed=7)   # a pyarrow.Table
"""

from __future__ import annotations

__version__ = "0.8.0"

from synfinance.generation import generate_table as generate  # noqa: E402

__all__ = ["__version__", "generate"]
