-- fail: a correlated subquery condition other than an equality with the outer query
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction FROM bids WHERE price > 10 OR EXISTS (SELECT 1 FROM bids b2 WHERE b2.auction = bids.auction AND b2.price > bids.price);
