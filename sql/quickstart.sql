-- tributary quickstart: a database, a Lance table, rows in and out.
-- Run: cargo run -- -f sql/quickstart.sql

CREATE DATABASE IF NOT EXISTS demo;
USE demo;

DROP TABLE IF EXISTS orders;
CREATE TABLE orders (
  order_id BIGINT NOT NULL COMMENT 'order number',
  customer VARCHAR(64),
  amount DECIMAL(10, 2),
  order_date DATE
)
DUPLICATE KEY(order_id)
DISTRIBUTED BY HASH(order_id) BUCKETS 4;

DESC orders;

INSERT INTO orders VALUES
  (1, 'alice', 19.99, '2026-01-05'),
  (2, 'bob', 5.00, '2026-01-05'),
  (3, 'alice', 42.50, '2026-01-06');

SELECT customer, count(*) AS orders, sum(amount) AS total
FROM demo.orders
GROUP BY customer
ORDER BY total DESC;

SELECT * FROM `demo`.`orders` WHERE order_id = 3\G
