-- IN becomes a semi join and NOT EXISTS an anti join, both against the distinct keys of the subquery
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT auction, price FROM bids b
WHERE bidder IN (SELECT bidder FROM bids WHERE price > 90)
  AND NOT EXISTS (SELECT 1 FROM bids c WHERE c.auction = b.auction AND c.channel = 'api');
