-- fail: all OVER aggregates of a SELECT share one window
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction,
       SUM(price) OVER (PARTITION BY auction ORDER BY ts),
       SUM(price) OVER (PARTITION BY bidder ORDER BY ts)
FROM bids;
