-- Subqueries over a GROUP BY's result: a scalar share of the total in the select list, a correlated count and an IN on the group key in HAVING
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT bidder, COUNT(*) AS n, COUNT(*) * 100 / (SELECT COUNT(*) FROM bids) AS pct
FROM bids
GROUP BY bidder
HAVING (SELECT COUNT(*) FROM bids b2 WHERE b2.bidder = bids.bidder AND b2.price > 90) > 0 OR bidder IN (SELECT bidder FROM bids WHERE channel IS NULL AND price < 10);
