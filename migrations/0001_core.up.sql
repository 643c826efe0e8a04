-- Core tables: the population and the transactions, columns as in synfinance/schema.py
-- (tests/synfinance/store/test_ddl.py fails when the two drift apart). Identifier and filter columns
-- compare bytewise (COLLATE "C"): ids are ASCII, and C lets B-trees use memcmp and abbreviated keys,
-- which makes index builds and inserts markedly faster than a libc locale.

CREATE TABLE customers (
    customer_id                  text COLLATE "C" NOT NULL,
    age                          smallint NOT NULL,
    gender                       text NOT NULL,
    city                         text COLLATE "C" NOT NULL,
    state                        text NOT NULL,
    region                       text NOT NULL,
    income_bracket               text NOT NULL,
    occupation                   text NOT NULL,
    monthly_income               bigint NOT NULL,
    segment                      text COLLATE "C" NOT NULL,
    risk_profile                 text NOT NULL,
    digital_savviness            text NOT NULL,
    avg_transaction_amount       double precision NOT NULL,
    monthly_transaction_count    smallint NOT NULL,
    preferred_categories         text[] NOT NULL,
    preferred_payment_modes      text[] NOT NULL,
    preferred_shopping_hours     smallint[] NOT NULL,
    weekend_shopper              boolean NOT NULL,
    merchant_loyalty             double precision NOT NULL,
    brand_conscious              boolean NOT NULL,
    impulse_buyer                boolean NOT NULL,
    travels_frequently           boolean NOT NULL,
    online_shopping_preference   double precision NOT NULL,
    PRIMARY KEY (customer_id)
);
CREATE INDEX customers_city_segment ON customers (city, segment, customer_id);

CREATE TABLE merchants (
    merchant_id                  text COLLATE "C" NOT NULL,
    name                         text NOT NULL,
    category                     text COLLATE "C" NOT NULL,
    subcategory                  text NOT NULL,
    mcc                          smallint NOT NULL,
    city                         text COLLATE "C" NOT NULL,
    region                       text NOT NULL,
    city_tier                    smallint NOT NULL,
    merchant_type                text NOT NULL,
    reputation                   double precision NOT NULL,
    PRIMARY KEY (merchant_id)
);
CREATE INDEX merchants_category_city ON merchants (category, city, merchant_id);
CREATE INDEX merchants_city ON merchants (city, merchant_id);

-- Range-partitioned by UTC month; synfinance_ensure_partitions() creates the months a load needs.
-- The primary key must include the partition key; transaction ids are unique on their own by construction.
CREATE TABLE transactions (
    transaction_id               text COLLATE "C" NOT NULL,
    customer_id                  text COLLATE "C" NOT NULL,
    merchant_id                  text COLLATE "C" NOT NULL,
    timestamp                    timestamptz NOT NULL,
    local_date                   date NOT NULL,
    local_hour                   smallint NOT NULL,
    day_of_week                  smallint NOT NULL,
    festival                     text,
    amount_inr                   numeric(14,2) NOT NULL,
    currency                     text NOT NULL,
    category                     text NOT NULL,
    subcategory                  text NOT NULL,
    mcc                          smallint NOT NULL,
    payment_mode                 text NOT NULL,
    card_type                    text,
    instrument_id                text,
    status                       text COLLATE "C" NOT NULL,
    channel                      text NOT NULL,
    is_online                    boolean NOT NULL,
    merchant_name                text NOT NULL,
    merchant_type                text NOT NULL,
    merchant_reputation          double precision NOT NULL,
    city                         text NOT NULL,
    state                        text NOT NULL,
    region                       text NOT NULL,
    merchant_city                text NOT NULL,
    latitude                     double precision NOT NULL,
    longitude                    double precision NOT NULL,
    device_id                    text,
    device_type                  text,
    os                           text,
    app_version                  text,
    customer_segment             text NOT NULL,
    customer_age_group           text NOT NULL,
    customer_income_bracket      text NOT NULL,
    distance_from_home_km        double precision NOT NULL,
    time_since_last_txn_s        double precision,
    is_first_txn_with_merchant   boolean NOT NULL,
    daily_txn_count              integer NOT NULL,
    daily_txn_amount_inr         numeric(14,2) NOT NULL,
    is_fraud                     boolean NOT NULL,
    fraud_type                   text COLLATE "C",
    fraud_severity               text,
    fraud_confidence             double precision,
    fraud_evidence               text,
    is_anomaly                   boolean NOT NULL,
    anomaly_type                 text,
    anomaly_severity             text,
    anomaly_confidence           double precision,
    anomaly_evidence             text,
    PRIMARY KEY (transaction_id, timestamp)
) PARTITION BY RANGE (timestamp);

-- Keyset pages order by (timestamp, transaction_id); every filtered listing has an index that leads with
-- its filter and ends in that order.
CREATE INDEX transactions_time ON transactions (timestamp, transaction_id);
CREATE INDEX transactions_customer_time ON transactions (customer_id, timestamp, transaction_id);
CREATE INDEX transactions_merchant_time ON transactions (merchant_id, timestamp, transaction_id);
CREATE INDEX transactions_fraud_type_time ON transactions (fraud_type, timestamp, transaction_id)
    WHERE fraud_type IS NOT NULL;
CREATE INDEX transactions_status_time ON transactions (status, timestamp, transaction_id)
    WHERE status <> 'approved';

CREATE FUNCTION synfinance_ensure_partitions(first_ts timestamptz, last_ts timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month timestamptz := date_trunc('month', first_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text;
    created integer := 0;
BEGIN
    WHILE month <= last_ts LOOP
        name := 'transactions_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            -- Two loaders may want the same month: serialise creation; the later one finds it made.
            PERFORM pg_advisory_xact_lock(hashtext('synfinance_ensure_partitions'));
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF transactions FOR VALUES FROM (%L) TO (%L)',
                               name, month, month + interval '1 month');
                created := created + 1;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;
            END;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;

-- Secondary indexes a bulk load into an empty table dropped, to be rebuilt after it (or by the next load
-- or migration if the loading process died).
CREATE TABLE deferred_indexes (
    index_name  text PRIMARY KEY,
    definition  text NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
