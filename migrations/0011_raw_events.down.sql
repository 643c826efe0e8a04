-- Back to NOT NULL: fails (naming the column) while a raw event's unknown context is stored; delete or complete
-- those rows first.
ALTER TABLE transactions
    ALTER COLUMN category SET NOT NULL,
    ALTER COLUMN subcategory SET NOT NULL,
    ALTER COLUMN mcc SET NOT NULL,
    ALTER COLUMN merchant_name SET NOT NULL,
    ALTER COLUMN merchant_type SET NOT NULL,
    ALTER COLUMN merchant_reputation SET NOT NULL,
    ALTER COLUMN state SET NOT NULL,
    ALTER COLUMN region SET NOT NULL,
    ALTER COLUMN merchant_city SET NOT NULL,
    ALTER COLUMN latitude SET NOT NULL,
    ALTER COLUMN longitude SET NOT NULL,
    ALTER COLUMN customer_segment SET NOT NULL,
    ALTER COLUMN customer_age_group SET NOT NULL,
    ALTER COLUMN customer_income_bracket SET NOT NULL,
    ALTER COLUMN distance_from_home_km SET NOT NULL;
