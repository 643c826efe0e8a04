"""Probabilities of a few rows through LightGBM's single-row predictor, made once instead of on every call.

`Booster.predict` sets up a predictor on each call: ~30 us of fixed cost here for the ~5 us that one row's trees
take, which is most of a single score's prediction. LightGBM's C API keeps that setup in a FastConfig
(`LGBM_BoosterPredictForMatSingleRowFastInit`, then `...SingleRowFast` per row), which the Python package does
not wrap; this calls it through the library the package loaded. Same trees, same code: the probabilities are
Booster.predict's, bit for bit (tests/synfinance/model/test_single_row.py).

    rows = SingleRows(booster)
    p = rows.predict(x)          # x: (rows, features) float64; up to FAST_ROWS rows, else Booster.predict

A FastConfig holds buffers for one caller at a time: each thread gets its own.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any

import lightgbm as lgb
import numpy as np

FAST_ROWS = 4  # one Booster.predict costs about as much as this many single-row calls (docs/benchmarks.md)
_PREDICT_NORMAL, _FLOAT64 = 0, 1  # c_api.h: C_API_PREDICT_NORMAL, C_API_DTYPE_FLOAT64


def _library() -> Any:
    """LightGBM's loaded C library, or None when this LightGBM does not expose it as 4.x does."""
    basic = getattr(lgb, "basic", None)
    lib = getattr(basic, "_LIB", None)
    return lib if lib is not None and hasattr(lib, "LGBM_BoosterPredictForMatSingleRowFast") else None


class SingleRows:
    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        self.features = booster.num_feature()
        self.trees = booster.best_iteration or -1  # as Booster.predict: the best iteration when early stopping set one
        self.lib = _library()
        self.local = threading.local()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Fraud probability per row (Booster.predict with one thread, for any number of rows)."""
        if len(x) > FAST_ROWS or self.lib is None or getattr(self.booster, "_handle", None) is None:
            return np.asarray(self.booster.predict(x, num_threads=1))
        config, out, produced = self._config()
        rows = np.ascontiguousarray(x, dtype=np.float64)
        result = np.empty(len(rows))
        pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        for i in range(len(rows)):
            self._check(self.lib.LGBM_BoosterPredictForMatSingleRowFast(
                config, rows[i].ctypes.data_as(ctypes.c_void_p), ctypes.byref(produced), pointer))
            result[i] = out[0]
        return result

    def _config(self) -> tuple[ctypes.c_void_p, np.ndarray, ctypes.c_int64]:
        """This thread's FastConfig (made on first use, freed with this object) and its output buffer."""
        made = getattr(self.local, "made", None)
        if made is None:
            config = ctypes.c_void_p()
            self._check(self.lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster._handle, ctypes.c_int(_PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(self.trees),
                ctypes.c_int(_FLOAT64), ctypes.c_int32(self.features), ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(config)))
            weakref.finalize(self, self.lib.LGBM_FastConfigFree, config)
            made = self.local.made = (config, np.zeros(1), ctypes.c_int64(0))
        return made

    def _check(self, code: int) -> None:
        if code != 0:
            raise lgb.basic.LightGBMError(self.lib.LGBM_GetLastError().decode())
