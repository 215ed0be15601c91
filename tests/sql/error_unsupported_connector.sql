-- fail: a Flink connector this engine does not have, pointed at where the option names it
CREATE TABLE orders (
  order_id BIGINT,
  price DECIMAL(10, 2)
) WITH (
  'connector' = 'kafka',
  'topic' = 'orders',
  'properties.bootstrap.servers' = 'localhost:9092',
  'format' = 'json'
);
SELECT * FROM orders;
