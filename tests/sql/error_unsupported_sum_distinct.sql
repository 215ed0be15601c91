-- fail: SUM(DISTINCT) is refused rather than answered as a plain SUM
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, SUM(DISTINCT price) AS total FROM bids GROUP BY auction;
