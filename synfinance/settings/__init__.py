"""Settings: typed models, layered loading, validation, versions and hot reload.

    from synfinance.settings import load_settings
    config = load_settings(env="production")   # ConfigError lists every problem
    config.settings.database.pool.max_size
"""

from synfinance.settings.loader import LoadedConfig, default_config_dir, load_settings
from synfinance.settings.models import SECTIONS, Settings, restart_only_paths

__all__ = ["SECTIONS", "LoadedConfig", "Settings", "default_config_dir", "load_settings", "restart_only_paths"]
