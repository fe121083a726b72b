-- Where floe's schema departs from the design's DDL (documented_schema.sql), and why.

-- Retention deletes expired check results; for each deleted row PostgreSQL looks up the
-- violations referencing it, a sequential scan of contract_violations without this index.
CREATE INDEX idx_violations_check_result ON contract_violations(check_result_id);

-- Alert state beside alert_dedup_state (migration 0003): what each channel was last sent,
-- every delivery outcome, and silences.
CREATE TABLE alert_channel_state (
    contract_name VARCHAR(255) NOT NULL,
    violation_type VARCHAR(50) NOT NULL,
    channel_name VARCHAR(255) NOT NULL,
    firing BOOLEAN NOT NULL DEFAULT FALSE,
    severity VARCHAR(20),
    elements JSONB NOT NULL DEFAULT '[]',
    last_sent_at TIMESTAMPTZ,
    PRIMARY KEY (contract_name, violation_type, channel_name)
);
CREATE TABLE alert_deliveries (
    id UUID PRIMARY KEY,
    contract_name VARCHAR(255) NOT NULL,
    channel_name VARCHAR(255) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    violation_types JSONB NOT NULL,
    status VARCHAR(20) NOT NULL,
    reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_alert_deliveries_contract ON alert_deliveries(contract_name, channel_name, created_at);
CREATE TABLE alert_silences (
    id VARCHAR(32) PRIMARY KEY,
    contract_pattern VARCHAR(255) NOT NULL,
    violation_type VARCHAR(50),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    comment TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
