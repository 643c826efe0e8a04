DROP TABLE model_versions;
DROP TABLE predictions;
DROP TABLE features;
