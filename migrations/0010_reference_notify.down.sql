DROP TRIGGER merchants_reference_changed ON merchants;
DROP TRIGGER customers_reference_changed ON customers;
DROP FUNCTION synfinance_reference_changed();
