-- Query 6: Average selling price by seller: the average closing price of each seller's last 10 closed auctions.
-- The published Flink text takes MAX(B.price) per auction (GROUP BY A.id, A.seller) and averages it OVER
-- (PARTITION BY seller ORDER BY dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW); Flink itself rejects it, because
-- that GROUP BY is an updating result without a time attribute. Here an auction's price is final when it closes:
-- its bids are grouped in the one-second tumbling window of A.expires, which fires once the watermark passes the
-- close, so every closed auction comes out once, stamped with window_end as its time attribute.
CREATE TABLE nexmark_q6 (
    seller BIGINT,
    avg_price BIGINT
) WITH ('connector' = 'blackhole');

-- The bids placed during an auction's lifetime (the join and condition of the published text).
CREATE VIEW auction_bids AS
SELECT A.id, A.seller, A.expires, B.price
FROM auction AS A, bid AS B
WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires;

INSERT INTO nexmark_q6
SELECT
    Q.seller,
    AVG(Q.final) OVER
        (PARTITION BY Q.seller ORDER BY Q.dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
FROM (
    SELECT MAX(price) AS final, seller, window_end AS dateTime
    FROM TABLE(TUMBLE(TABLE auction_bids, DESCRIPTOR(expires), INTERVAL '1' SECOND))
    GROUP BY id, seller, window_start, window_end
) AS Q;
