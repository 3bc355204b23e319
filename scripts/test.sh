#!/usr/bin/env bash
# Runs every test of RustFS Cluster: formatting, lints, unit + property tests, end-to-end suites
# against the real binary, and the smoke test with off-the-shelf S3 clients. Installs missing
# tools (apt: s3cmd rclone curl openssh-server openssh-client iproute2 systemd sudo openssl strace prometheus
# docker.io debootstrap slapd ldap-utils; pip: awscli, ansible-core, ansible-lint) and builds the container test hosts' image first, so it works on
# a fresh machine. Terraform (/usr/local/bin/terraform, with the aws provider mirrored in
# /opt/tf-plugins) cannot be installed from here: without it the run stops at once, saying so.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for tool in s3cmd rclone curl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
# provisioner test hosts: a real sshd per network namespace
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# durability order: tests/tests/races.rs traces a PUT's syscalls
command -v strace >/dev/null 2>&1 || missing+=(strace)
# observability: a real Prometheus and promtool (dashboards/, tests/tests/observability.rs)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# container test hosts (tests/src/hosts/): Docker and debootstrap for their image
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# LDAP identity tests (tests/src/ldap.rs): a real OpenLDAP slapd and its client tools. The harness
# runs its own slapd on loopback ports, so a system slapd the package may start does not matter.
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: installing ${missing[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v aws >/dev/null 2>&1; then
  echo "test: installing the aws CLI (pip)"
  python3 -m pip install --quiet awscli
  hash -r
fi

# Ansible (ansible/): ansible-lint here, the playbooks against container hosts in tests/tests/ansible.rs
if ! command -v ansible-playbook >/dev/null 2>&1 || ! command -v ansible-lint >/dev/null 2>&1; then
  echo "test: installing ansible-core and ansible-lint (pip)"
  python3 -m pip install --quiet ansible-core ansible-lint
  hash -r
fi

# Terraform: not in apt, so it must be there already (scripts/terraform-test.sh says what is missing).
scripts/terraform-test.sh --check

TARGET=${CARGO_TARGET_DIR:-target}
# Each phase says when it starts and how long the run has taken so far, so a slow CI run shows where
# its time went.
phase() { echo "== [$(date +%T), ${SECONDS}s] $*"; }

phase "promtool: alert rules and their unit tests"
promtool check rules dashboards/prometheus/alerts.yml
promtool test rules dashboards/prometheus/alerts_test.yml
phase "ansible-lint (ansible/, production profile)"
(cd ansible && ansible-lint --nocolor --profile production)
phase "cargo fmt --check"
cargo fmt --all -- --check
phase "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
phase "cargo build (binaries the end-to-end suites start)"
cargo build --workspace --bins --quiet

# ---- Terraform (terraform/) --------------------------------------------------------------------
phase "terraform: fmt, init + validate (local provider mirror), terraform test, rustfs-provision validate, drive script"
RUSTFS_PROVISION_BIN="$TARGET/debug/rustfs-provision" scripts/terraform-test.sh
# ------------------------------------------------------------------------------------------------

phase "container test host image (built once per recipe: debootstrap + docker import)"
scripts/test-host-image.sh
# cargo-nextest (on this project's machines; `cargo install cargo-nextest` elsewhere) runs test
# binaries side by side, so the long container suites (Ansible, provisioning) overlap the rest
# instead of queueing behind them; at most two tests run at once either way.
if cargo nextest --version >/dev/null 2>&1; then
  phase "cargo nextest run (build, then every test binary, two tests at a time)"
  cargo nextest run --workspace --no-fail-fast --test-threads 2
  phase "cargo test --doc"
  cargo test --workspace --doc
else
  phase "cargo test (cargo-nextest is missing: one test binary at a time)"
  cargo test --workspace --no-fail-fast
fi
phase "schemathesis against the control plane's OpenAPI document"
scripts/controlplane-schemathesis.sh "$TARGET/debug/rustfs-controlplane"
phase "smoke test with aws CLI, s3cmd and rclone"
scripts/smoke.sh "$TARGET/debug/rustfs"
phase "done"
