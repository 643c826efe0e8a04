"""Transaction generation: a plan fixed by the parameters, then shards generated independently."""

from synfinance.generate.plan import GenerationParams, GenerationPlan
from synfinance.generate.transactions import generate_shard

__all__ = ["GenerationParams", "GenerationPlan", "generate_shard"]
