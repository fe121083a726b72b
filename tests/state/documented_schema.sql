-- The monitoring-state schema exactly as the design's data model documents it
-- ("PostgreSQL Schema (Monitoring State)" in design/data-model.md), copied verbatim.
-- test_schema.py runs it on one fresh database, floe's migrations on another, and compares.

-- Check results history (90-day retention)
CREATE TABLE contract_check_results (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_name VARCHAR(255) NOT NULL,
    check_type VARCHAR(50) NOT NULL,
    status VARCHAR(20) NOT NULL,
    duration_seconds FLOAT NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    details JSONB DEFAULT '{}',
    violation JSONB DEFAULT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_check_results_contract ON contract_check_results(contract_name, checked_at);
CREATE INDEX idx_check_results_type ON contract_check_results(check_type, checked_at);

-- Violation history (90-day retention)
CREATE TABLE contract_violations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_name VARCHAR(255) NOT NULL,
    contract_version VARCHAR(50) NOT NULL,
    violation_type VARCHAR(50) NOT NULL,
    severity VARCHAR(20) NOT NULL,
    message TEXT NOT NULL,
    element VARCHAR(255),
    expected_value TEXT,
    actual_value TEXT,
    affected_consumers JSONB DEFAULT '[]',
    detected_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    check_result_id UUID REFERENCES contract_check_results(id)
);
CREATE INDEX idx_violations_contract ON contract_violations(contract_name, detected_at);
CREATE INDEX idx_violations_severity ON contract_violations(severity, detected_at);

-- SLA status tracking (current state, not time-series)
CREATE TABLE contract_sla_status (
    contract_name VARCHAR(255) NOT NULL,
    check_type VARCHAR(50) NOT NULL,
    current_value FLOAT NOT NULL,
    threshold FLOAT NOT NULL,
    compliance_pct FLOAT NOT NULL,
    last_check_time TIMESTAMPTZ,
    consecutive_failures INT DEFAULT 0,
    violation_count_24h INT DEFAULT 0,
    window_start TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (contract_name, check_type)
);

-- Daily aggregates (retained indefinitely)
CREATE TABLE contract_daily_aggregates (
    contract_name VARCHAR(255) NOT NULL,
    check_type VARCHAR(50) NOT NULL,
    date DATE NOT NULL,
    total_checks INT NOT NULL DEFAULT 0,
    passed_checks INT NOT NULL DEFAULT 0,
    failed_checks INT NOT NULL DEFAULT 0,
    error_checks INT NOT NULL DEFAULT 0,
    avg_duration_seconds FLOAT,
    min_quality_score FLOAT,
    max_quality_score FLOAT,
    avg_quality_score FLOAT,
    uptime_pct FLOAT,
    violation_count INT NOT NULL DEFAULT 0,
    PRIMARY KEY (contract_name, check_type, date)
);

-- Registered contracts (active monitoring set)
CREATE TABLE registered_contracts (
    contract_name VARCHAR(255) PRIMARY KEY,
    contract_version VARCHAR(50) NOT NULL,
    contract_data JSONB NOT NULL,
    connection_config JSONB NOT NULL,
    monitoring_overrides JSONB,
    registered_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_check_times JSONB DEFAULT '{}',
    active BOOLEAN DEFAULT TRUE
);

-- Alert deduplication tracking
CREATE TABLE alert_dedup_state (
    contract_name VARCHAR(255) NOT NULL,
    violation_type VARCHAR(50) NOT NULL,
    last_alerted_at TIMESTAMPTZ NOT NULL,
    alert_count_window INT DEFAULT 1,
    window_start TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contract_name, violation_type)
);
