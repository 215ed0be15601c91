-- INTERSECT ALL: both sides counted per distinct row, then each row written min(left, right) times
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT auction FROM bids WHERE price > 50 INTERSECT ALL SELECT auction FROM bids WHERE bidder < 4;
