-- Where floe's schema departs from the design's DDL (documented_schema.sql), and why.

-- Retention deletes expired check results; for each deleted row PostgreSQL looks up the
-- violations referencing it, a sequential scan of contract_violations without this index.
CREATE INDEX idx_violations_check_result ON contract_violations(check_result_id);
