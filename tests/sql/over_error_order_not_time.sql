-- fail: OVER windows are ordered by the time attribute
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, AVG(price) OVER (PARTITION BY auction ORDER BY price ROWS 3 PRECEDING) FROM bids;
