-- Initial schema of the control plane. Shipped: never edit this file; add 0002_*.sql etc.
-- Times are unix milliseconds (UTC). Desired state (what was registered) and observed state
-- (what the poller saw) live side by side; observed columns are nullable until first seen.
-- Later migrations add releases, upgrades/upgrade_steps (FK hosts), replication_links (FK
-- clusters, both ends) and backup_policies/backup_runs (FK clusters).

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE clusters (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    -- the normalised registration body without credentials (JSON): what "unchanged" means
    spec TEXT NOT NULL,
    desired_version TEXT,
    scheme TEXT NOT NULL CHECK (scheme IN ('http', 'https')),
    ca_pem TEXT,
    -- credentials sealed with the control plane's secret key (nonce || ciphertext)
    credentials BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'unknown',
    observed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE pools (
    id INTEGER PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    UNIQUE (cluster_id, idx)
);

-- one host runs one node
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    s3_port INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    version TEXT,
    last_seen INTEGER,
    last_error TEXT,
    UNIQUE (cluster_id, name)
);

CREATE TABLE drives (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'online', 'offline')),
    pool_idx INTEGER,
    set_idx INTEGER,
    total_bytes INTEGER,
    used_bytes INTEGER,
    free_bytes INTEGER,
    last_change INTEGER,
    UNIQUE (host_id, path)
);

-- observed erasure sets, replaced by each poll that got an admin answer
CREATE TABLE erasure_sets (
    cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    pool_idx INTEGER NOT NULL,
    set_idx INTEGER NOT NULL,
    data INTEGER NOT NULL,
    parity INTEGER NOT NULL,
    read_quorum INTEGER NOT NULL,
    write_quorum INTEGER NOT NULL,
    drives_total INTEGER NOT NULL,
    drives_online INTEGER NOT NULL,
    read_tolerance INTEGER NOT NULL,
    write_tolerance INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, pool_idx, set_idx)
);

-- every version each node has been seen running
CREATE TABLE node_versions (
    id INTEGER PRIMARY KEY,
    host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (host_id, version)
);

-- history outlives the objects it names: names, not foreign keys
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    cluster TEXT,
    node TEXT,
    drive TEXT,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_cluster ON events (cluster, id);
CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_time ON events (time);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- sha256 of the token (tokens are 256 random bits, so a fast hash is enough)
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT
);
