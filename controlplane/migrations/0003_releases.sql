-- Releases: node binaries kept to upgrade clusters with. Shipped: never edit this file.
-- The binary itself is a file named by its sha256 in the releases directory beside the database.
CREATE TABLE releases (
    version TEXT NOT NULL,
    arch TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- the path or URL it was taken from
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (version, arch)
);
