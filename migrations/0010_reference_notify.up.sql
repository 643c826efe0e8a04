-- A committed change to the customers or merchants (insert, update, delete, truncate; a COPY load counts as an
-- insert) notifies channel synfinance_reference with '<schema>.<table>': the feature shards of a running API
-- re-read their reference (synfinance/store/notify.py) and complete raw events with it from then on.
CREATE FUNCTION synfinance_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('synfinance_reference', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION synfinance_reference_changed();
CREATE TRIGGER merchants_reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION synfinance_reference_changed();
