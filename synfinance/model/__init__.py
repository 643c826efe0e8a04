"""The fraud model: training, the registry of versions, scoring with explanations, evaluation metrics."""
