-- fail: a correlated IN subquery with an aggregate is not decorrelated (it is not reported as an unknown alias either)
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction FROM bids b WHERE price > 99 OR b.auction IN (SELECT MAX(c.auction) FROM bids c WHERE c.bidder = b.bidder);
