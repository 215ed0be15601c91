-- EXPLAIN of Nexmark q5's shape: counts joined with their own per-window MAX on both bounds and num >= maxn become one
-- window aggregate and a WindowMaxPrune keyed by window_end (no join, no second aggregate)
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT A.auction, A.num
FROM (SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
      FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) A
JOIN (SELECT MAX(num) AS maxn, starttime, endtime
      FROM (SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
            FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end)
      GROUP BY starttime, endtime) M
ON A.starttime = M.starttime AND A.endtime = M.endtime AND A.num >= M.maxn;
