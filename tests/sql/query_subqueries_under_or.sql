-- IN / EXISTS under OR and a correlated NOT IN: each subquery's three-valued answer is joined to the row, then the condition filters
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, bidder, price FROM bids
WHERE price > 98
   OR (auction = 2 AND EXISTS (SELECT 1 FROM bids b2 WHERE b2.bidder = bids.bidder AND b2.channel = 'app'))
   OR (auction = 3 AND bidder NOT IN (SELECT b3.bidder FROM bids b3 WHERE b3.auction = bids.auction AND b3.price > 80));
