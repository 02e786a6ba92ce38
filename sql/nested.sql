-- Nested and JSON columns: ARRAY, MAP, STRUCT and JSON, loaded from a JSON
-- file and queried with Doris's functions.
-- Run from the repository root: cargo run -- -f sql/nested.sql

CREATE DATABASE IF NOT EXISTS demo;
USE demo;

DROP TABLE IF EXISTS events;
CREATE TABLE events (
  id BIGINT,
  tags ARRAY<STRING>,
  who STRUCT<name:STRING, age:INT>,
  payload JSON,
  counters MAP<STRING, INT>
);

-- JSON arrays and objects load into ARRAY and STRUCT columns; CAST(... AS
-- JSON) keeps an object as JSON text.
INSERT INTO events (id, tags, who, payload)
SELECT id, tags, who, CAST(payload AS JSON)
FROM S3("uri" = "sql/data/events/*.json", "format" = "json");

-- Literals: [..] arrays, {'k': v} maps, named_struct(...) structs.
INSERT INTO events VALUES
  (3, ['returning'], named_struct('name', 'cy', 'age', 41), '{"items": []}', {'visits': 12});

SELECT * FROM events ORDER BY id;

SELECT id,
       size(tags) AS n_tags,
       array_contains(tags, 'mobile') AS mobile,
       who.name AS name,
       json_extract_int(payload, '$.items[0]') AS first_item,
       json_extract_string(payload, '$.coupon') AS coupon,
       element_at(counters, 'visits') AS visits
FROM events
ORDER BY id;
