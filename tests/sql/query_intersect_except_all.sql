-- INTERSECT ALL and EXCEPT ALL keep duplicates: min(left, right) and left - right copies of each row
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
SELECT auction, channel, 'both' AS kind FROM (SELECT auction, channel FROM bids WHERE price > 50 INTERSECT ALL SELECT auction, channel FROM bids WHERE bidder < 4)
UNION ALL
SELECT auction, channel, 'expensive only' FROM (SELECT auction, channel FROM bids WHERE price > 50 EXCEPT ALL SELECT auction, channel FROM bids WHERE bidder < 4);
