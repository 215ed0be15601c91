-- EXPLAIN of a window join of one stream with itself over the same TUMBLE TVF: the join assigns the windows, so the scan is read once (reuse_id)
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT a.auction, a.bidder, b.bidder AS other, a.window_start
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) a
JOIN TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND)) b
ON a.auction = b.auction AND a.window_start = b.window_start AND a.window_end = b.window_end;
