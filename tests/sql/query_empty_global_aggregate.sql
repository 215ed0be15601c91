-- A global aggregate over no rows answers one row, as databases do
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT COUNT(*) AS n, COUNT(channel) AS c, SUM(price) AS s, MAX(ts) AS latest FROM bids WHERE price < 0;
