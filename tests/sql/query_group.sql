-- group aggregate: final result after bounded input
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT COALESCE(channel, 'none') AS ch, COUNT(*) AS n, AVG(bidder) AS avg_bidder FROM bids GROUP BY COALESCE(channel, 'none');
