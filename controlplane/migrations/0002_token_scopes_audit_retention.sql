-- Token scopes and expiry, and pruning the audit trail by age. Shipped: never edit this file.
-- Tokens made before this migration could do everything: they become `admin`, without expiry.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('read', 'admin'));
-- unix milliseconds; NULL: never expires
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

CREATE INDEX audit_log_time ON audit_log (time);
