-- fail: OVER names a window the WINDOW clause does not define
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, AVG(price) OVER wind FROM bids WINDOW win AS (PARTITION BY auction ORDER BY ts);
