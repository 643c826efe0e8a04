-- model_versions and quality_runs were created ahead of the features that would write them; nothing does.
-- The model registry lives in ml.registry_path (files), quality runs are not stored yet: drop both until
-- the code that writes them lands (with its own migration).
DROP TABLE model_versions;
DROP TABLE quality_runs;
