-- EXPLAIN of a query that uses one window aggregate twice: it is computed once (reuse_id) and read again (Reused)
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT A.auction, A.n, T.total
FROM (SELECT auction, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) A
JOIN (SELECT window_start, window_end, SUM(n) AS total
      FROM (SELECT auction, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end)
      GROUP BY window_start, window_end) T
ON A.window_start = T.window_start AND A.window_end = T.window_end;
