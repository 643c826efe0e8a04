"""Packaging beyond what pyproject.toml can say: the top-level config/, migrations/ and monitoring/ directories go
into the wheel as synfinance._bundled.<name>, so an installed `synfinance` (not only a checkout) finds them
(synfinance._bundled.resource_dir). Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

CODE = ["synfinance*", "actors*", "serve*", "chaos*"]
BUNDLED = ("config", "migrations", "monitoring")
DATA = ["*.yaml", "*.yml", "*.json", "*.ndjson", "*.sql", "*.conf"]

# each bundled directory and its subdirectories, as packages of data (no __init__.py: namespace packages)
bundled = {f"synfinance._bundled.{name}": name for name in BUNDLED}
for name in BUNDLED:
    for sub in find_namespace_packages(where=name, exclude=["*__pycache__*"]):
        bundled[f"synfinance._bundled.{name}.{sub}"] = f"{name}/{sub.replace('.', '/')}"
code = find_namespace_packages(include=CODE, exclude=["*__pycache__*", "synfinance._bundled.*"])

setup(
    packages=code + list(bundled),
    package_dir=bundled,
    package_data={package: DATA for package in [*bundled, "serve", "chaos.scenarios"]},
)
