DROP TABLE deferred_indexes;
DROP FUNCTION synfinance_ensure_partitions(timestamptz, timestamptz);
DROP TABLE transactions;
DROP TABLE merchants;
DROP TABLE customers;
