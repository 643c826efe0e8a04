-- A customer's geocoded home (synfinance/schema.py: home_latitude, home_longitude): the reference from which the
-- API derives a raw event's distance from home. Null for rows stored before it was recorded.
ALTER TABLE customers ADD COLUMN home_latitude double precision CHECK (home_latitude BETWEEN -90 AND 90);
ALTER TABLE customers ADD COLUMN home_longitude double precision CHECK (home_longitude BETWEEN -180 AND 180);
