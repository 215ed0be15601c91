-- CUMULATE: every step's window [window_start, window_start + k * 10 s) once, each fired when the watermark passes its end
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, window_start, window_end, COUNT(*) AS n, MAX(price) AS hi
FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND))
WHERE auction > 1
GROUP BY auction, window_start, window_end;
