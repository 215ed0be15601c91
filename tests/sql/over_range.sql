-- RANGE frame over the last 10 seconds per bidder: bids of equal time are peers and see each other; COUNT(channel) skips NULLs
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT bidder, ts, price,
       COUNT(*) OVER w AS n,
       COUNT(channel) OVER w AS with_channel,
       ROUND(SUM(price) OVER w, 2) AS total,
       MIN(price) OVER w AS lowest,
       COUNT(*) FILTER (WHERE channel = 'web') OVER w AS web
FROM bids
WINDOW w AS (PARTITION BY bidder ORDER BY ts RANGE BETWEEN INTERVAL '10' SECOND PRECEDING AND CURRENT ROW);
