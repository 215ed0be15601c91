-- EXPLAIN folds constants, merges filters and projections
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT UPPER(channel) AS ch, price * (2 + 3) AS p
FROM (SELECT * FROM bids WHERE price > 1 + 1) t
WHERE 1 = 1 AND channel IS NOT NULL;
