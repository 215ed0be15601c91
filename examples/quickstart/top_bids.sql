-- Bids per auction in 10-second tumbling windows, with the highest price.
CREATE STREAM bids (
    auction BIGINT,
    bidder  BIGINT,
    price   BIGINT,
    ts      TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'file', 'path' = 'bids.ndjson', 'format' = 'json');

SELECT window_start, auction, COUNT(*) AS bids, MAX(price) AS top_price
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, auction;
