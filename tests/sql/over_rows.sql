-- ROWS frame: each bid with the average and maximum of its auction's last three bids (itself included)
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, ts, price,
       ROUND(AVG(price) OVER w, 4) AS avg3,
       MAX(price) OVER w AS max3,
       COUNT(*) OVER w AS n,
       ROUND(price - AVG(price) OVER w, 4) AS diff
FROM bids
WINDOW w AS (PARTITION BY auction ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);
