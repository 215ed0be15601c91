-- EXPLAIN of an interval self-join: keys, time bounds and the filters pushed into each input
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
EXPLAIN SELECT a.auction, a.price, b.price AS next_price
FROM bids a JOIN bids b ON a.auction = b.auction AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '5' SECOND
WHERE a.channel = 'web' AND b.price > a.price;
