-- OVER aggregate: the filter on the partition key runs below it, the one on the aggregate above it
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT * FROM (
  SELECT auction, price, AVG(price) OVER (PARTITION BY auction ORDER BY ts ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS recent
  FROM bids
) WHERE auction = 2 AND recent > 50;
