-- A transaction stored from a raw event (POST /v1/transactions with what a payment switch knows): its merchant,
-- customer and location context is derived from the reference, and is unknown for a merchant, customer or city the
-- reference does not hold. These columns (synfinance/schema.py: UNKNOWABLE) take null for unknown; a generated
-- dataset never leaves them empty.
ALTER TABLE transactions
    ALTER COLUMN category DROP NOT NULL,
    ALTER COLUMN subcategory DROP NOT NULL,
    ALTER COLUMN mcc DROP NOT NULL,
    ALTER COLUMN merchant_name DROP NOT NULL,
    ALTER COLUMN merchant_type DROP NOT NULL,
    ALTER COLUMN merchant_reputation DROP NOT NULL,
    ALTER COLUMN state DROP NOT NULL,
    ALTER COLUMN region DROP NOT NULL,
    ALTER COLUMN merchant_city DROP NOT NULL,
    ALTER COLUMN latitude DROP NOT NULL,
    ALTER COLUMN longitude DROP NOT NULL,
    ALTER COLUMN customer_segment DROP NOT NULL,
    ALTER COLUMN customer_age_group DROP NOT NULL,
    ALTER COLUMN customer_income_bracket DROP NOT NULL,
    ALTER COLUMN distance_from_home_km DROP NOT NULL;
