ALTER TABLE customers DROP COLUMN home_longitude;
ALTER TABLE customers DROP COLUMN home_latitude;
