-- Nexmark sources: the three event kinds of one deterministic generator run, one table each.
-- The published Flink DDL declares a single `datagen` table with ROW columns and three views over it; our dialect has
-- no ROW type, so each view becomes a `nexmark` table with the same columns. All three tables share the seed and the
-- event count, so they are the Person/Auction/Bid slices of one and the same event sequence (ids 0 .. events-1).
-- ${EVENTS}, ${SEED}, ${RATE} and ${PARTITIONS} are filled in by `streams bench nexmark`.

CREATE TABLE person (
    id BIGINT,
    name VARCHAR,
    emailAddress VARCHAR,
    creditCard VARCHAR,
    city VARCHAR,
    state VARCHAR,
    dateTime TIMESTAMP(3),
    extra VARCHAR,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH (
    'connector' = 'nexmark', 'table' = 'person',
    'events' = '${EVENTS}', 'seed' = '${SEED}', 'rate' = '${RATE}', 'partitions' = '${PARTITIONS}'
);

CREATE TABLE auction (
    id BIGINT,
    itemName VARCHAR,
    description VARCHAR,
    initialBid BIGINT,
    reserve BIGINT,
    dateTime TIMESTAMP(3),
    expires TIMESTAMP(3),
    seller BIGINT,
    category BIGINT,
    extra VARCHAR,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH (
    'connector' = 'nexmark', 'table' = 'auction',
    'events' = '${EVENTS}', 'seed' = '${SEED}', 'rate' = '${RATE}', 'partitions' = '${PARTITIONS}'
);

CREATE TABLE bid (
    auction BIGINT,
    bidder BIGINT,
    price BIGINT,
    channel VARCHAR,
    url VARCHAR,
    dateTime TIMESTAMP(3),
    extra VARCHAR,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH (
    'connector' = 'nexmark', 'table' = 'bid',
    'events' = '${EVENTS}', 'seed' = '${SEED}', 'rate' = '${RATE}', 'partitions' = '${PARTITIONS}'
);
