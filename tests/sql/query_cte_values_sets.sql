-- WITH, VALUES, INTERSECT and EXCEPT
CREATE STREAM bids (auction BIGINT, bidder BIGINT, price DOUBLE, channel VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = 'data/bids.ndjson', format = 'json');
WITH hot AS (SELECT auction FROM bids WHERE price > 80),
     cold AS (SELECT auction FROM bids WHERE price < 5)
SELECT auction, 'both' AS kind FROM (SELECT auction FROM hot INTERSECT SELECT auction FROM cold)
UNION ALL
SELECT auction, 'hot only' FROM (SELECT auction FROM hot EXCEPT SELECT auction FROM cold)
UNION ALL
SELECT id, name FROM (VALUES (100, 'listed'), (101, 'listed')) AS t(id, name);
