-- A global aggregate whose updating input retracts every row it counted still answers one row (COUNT 0) at the end
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT COUNT(*) AS n, MAX(c) AS most FROM (SELECT auction, COUNT(*) AS c FROM bids GROUP BY auction) WHERE c < 2;
