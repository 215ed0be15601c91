-- CUMULATE benchmark (docs/performance.md, "CUMULATE per-step firing"): 3 M Nexmark bids over 3 s of event time, windows
-- of 1 s steps up to 10 s, COUNT and MAX per auction, into a blackhole sink.
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
    'events' = '3000000', 'seed' = '42', 'rate' = '1000000', 'partitions' = '2'
);
CREATE TABLE out_sink (auction BIGINT, ws TIMESTAMP(3), we TIMESTAMP(3), n BIGINT, hi BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out_sink
SELECT auction, window_start, window_end, COUNT(*), MAX(price)
FROM TABLE(CUMULATE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '1' SECOND, INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end;
