-- fail: a subquery the planner cannot turn into a semi or anti join
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction FROM bids WHERE price > 10 OR EXISTS (SELECT 1 FROM bids b2 WHERE b2.bidder = bids.auction);
