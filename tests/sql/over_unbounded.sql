-- Default frame (RANGE UNBOUNDED PRECEDING): running totals per auction, and a running count over all bids
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, ts,
       COUNT(*) OVER (PARTITION BY auction ORDER BY ts) AS bids_so_far,
       ROUND(SUM(price) OVER (PARTITION BY auction ORDER BY ts), 2) AS spent_so_far,
       MAX(price) OVER (PARTITION BY auction ORDER BY ts) AS best_so_far
FROM bids
WHERE bidder <> 2;
