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

-- The long-running monitor (migration 0004): its schedule and leases, its replicas'
-- heartbeats, its once-a-day jobs, and when a contract was last (re-)registered.
ALTER TABLE registered_contracts ADD COLUMN updated_at TIMESTAMPTZ;
CREATE TABLE monitor_schedule (
    contract_name VARCHAR(255) NOT NULL,
    check_type VARCHAR(50) NOT NULL,
    interval_seconds DOUBLE PRECISION NOT NULL,
    next_due_at TIMESTAMPTZ NOT NULL,
    lease_owner VARCHAR(64),
    lease_expires_at TIMESTAMPTZ,
    last_started_at TIMESTAMPTZ,
    last_finished_at TIMESTAMPTZ,
    last_status VARCHAR(20),
    PRIMARY KEY (contract_name, check_type)
);
CREATE INDEX idx_monitor_schedule_due ON monitor_schedule(next_due_at);
CREATE TABLE monitor_replicas (
    replica_id VARCHAR(64) PRIMARY KEY,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE monitor_jobs (
    job VARCHAR(50) PRIMARY KEY,
    last_run_on DATE,
    claimed_by VARCHAR(64),
    claimed_at TIMESTAMPTZ
);
