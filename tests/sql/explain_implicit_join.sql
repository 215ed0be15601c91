-- EXPLAIN of an implicit join turned into a keyed join, and a group aggregate
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT x.bidder, COUNT(*) AS n FROM bids x, bids y WHERE x.bidder = y.bidder AND x.auction = 1 GROUP BY x.bidder HAVING COUNT(*) > 2;
