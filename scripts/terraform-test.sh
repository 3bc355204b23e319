#!/usr/bin/env bash
# Tests of terraform/ with the real Terraform CLI, offline:
#   1. terraform fmt -check -recursive
#   2. terraform init (providers only from the local mirror) + terraform validate, every module
#      and example
#   3. terraform test for modules/inventory (plan assertions, expect_failures for every rule) and
#      modules/aws-cluster (mock aws provider: instances, volumes, security-group rules, the
#      rendered inventory)
#   4. the aws-cluster provision step against the real rustfs-provision: the inventory it renders
#      must pass `rustfs-provision validate`
#   5. the cloud-init drive script, rendered by Terraform, checked by shellcheck and run for real
#      on loop devices in a private mount namespace (root): XFS by label, fstab with nofail,
#      mounted, harmless when run again, and a volume holding another filesystem left alone
# (tests/tests/terraform.rs, run by `cargo test`, applies terraform/examples/existing-hosts and
# has rustfs-provision validate that output too, and checks the messages of bad input.)
#
# Needs Terraform >= 1.9 ($TERRAFORM, default /usr/local/bin/terraform, else the one on PATH) and
# the hashicorp/aws provider in a filesystem mirror ($TF_PLUGIN_DIR, default /opt/tf-plugins):
# neither can be downloaded here, so a missing one is an error that says what to install.
# xfsprogs and shellcheck are installed from apt when missing; step 5 needs root (or sudo) for
# loop devices and mounts. `--check` checks and installs these prerequisites and stops.
# Everything runs in a temporary copy of terraform/: no .terraform, lock or state file is left in
# the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# No user CLI configuration (plugin caches, credential helpers, network mirrors): providers come
# only from the mirror given to `terraform init`.
export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

TERRAFORM=${TERRAFORM:-/usr/local/bin/terraform}
if [ ! -x "$TERRAFORM" ]; then
  TERRAFORM=$(command -v terraform || true)
fi
if [ -z "$TERRAFORM" ] || [ ! -x "$TERRAFORM" ]; then
  echo "terraform-test: Terraform is not installed (looked at /usr/local/bin/terraform and PATH)." >&2
  echo "  Install Terraform >= 1.9 as /usr/local/bin/terraform (or set TERRAFORM=/path/to/terraform);" >&2
  echo "  it is not in Debian's archive, so scripts/test.sh cannot install it for you." >&2
  exit 1
fi
tf_version=$("$TERRAFORM" version | sed -n '1s/^Terraform v\([0-9.]*\).*/\1/p')
tf_major=${tf_version%%.*}
tf_minor=${tf_version#*.}
tf_minor=${tf_minor%%.*}
if [ -z "$tf_version" ] || [ "$tf_major" -lt 1 ] || { [ "$tf_major" -eq 1 ] && [ "$tf_minor" -lt 9 ]; }; then
  echo "terraform-test: $TERRAFORM is Terraform ${tf_version:-of unknown version}; terraform/ needs >= 1.9" >&2
  exit 1
fi

PLUGIN_DIR=${TF_PLUGIN_DIR:-/opt/tf-plugins}
if ! compgen -G "$PLUGIN_DIR/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*" >/dev/null; then
  echo "terraform-test: no hashicorp/aws provider in the mirror $PLUGIN_DIR" >&2
  echo "  expected $PLUGIN_DIR/registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/terraform-provider-aws_*" >&2
  echo "  (terraform providers mirror $PLUGIN_DIR, run where the registry is reachable; or set TF_PLUGIN_DIR)" >&2
  exit 1
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
command -v mkfs.xfs >/dev/null 2>&1 || missing+=(xfsprogs)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
  echo "terraform-test: installing ${missing[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--check" ]; then
  echo "terraform-test: $("$TERRAFORM" version | head -n1) at $TERRAFORM, aws provider in $PLUGIN_DIR"
  exit 0
fi

TARGET=${CARGO_TARGET_DIR:-target}
PROVISION=${RUSTFS_PROVISION_BIN:-$TARGET/debug/rustfs-provision}
if [ ! -x "$PROVISION" ]; then
  echo "terraform-test: building rustfs-provision"
  cargo build --quiet -p rustfs-provision --bin rustfs-provision
fi
PROVISION=$(realpath "$PROVISION")

work=$(mktemp -d)
loops=()
cleanup() {
  for l in "${loops[@]}"; do $SUDO losetup -d "$l" 2>/dev/null || true; done
  # The drive script makes the empty mount points immutable.
  if [ -d "$work/drives/mnt" ]; then $SUDO chattr -R -i "$work/drives/mnt" 2>/dev/null || true; fi
  $SUDO rm -rf "$work"
}
trap cleanup EXIT
tar -C terraform --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' \
  --exclude=inventory.yaml -cf - . | (mkdir -p "$work/terraform" && tar -C "$work/terraform" -xf -)

tf() { "$TERRAFORM" "$@"; }

echo "== terraform fmt -check -recursive"
tf fmt -check -recursive -diff terraform

dirs=()
for d in "$work"/terraform/modules/* "$work"/terraform/examples/*; do
  [ -d "$d" ] && dirs+=("${d#"$work"/terraform/}")
done
for d in "${dirs[@]}"; do
  echo "== terraform init + validate: terraform/$d"
  if ! (cd "$work/terraform/$d" && tf init -backend=false -plugin-dir="$PLUGIN_DIR" >"$work/init.log" 2>&1); then
    cat "$work/init.log" >&2
    echo "terraform-test: terraform init failed in terraform/$d" >&2
    exit 1
  fi
  (cd "$work/terraform/$d" && tf validate -no-color)
done

echo "== terraform test: terraform/modules/inventory"
(cd "$work/terraform/modules/inventory" && tf test -no-color)
echo "== terraform test: terraform/modules/aws-cluster (mock aws provider)"
(cd "$work/terraform/modules/aws-cluster" && tf test -no-color)

echo "== terraform test: terraform/modules/aws-cluster provision step, rustfs-provision validate ($PROVISION)"
fixture="$work/provision"
mkdir -p "$fixture"
printf '#!/bin/sh\n' >"$fixture/rustfs"
chmod 0755 "$fixture/rustfs"
printf 'not a real key: rustfs-provision validate only checks that the file is there\n' >"$fixture/id_ed25519"
printf 'a-password-of-some-length\n' >"$fixture/password"
chmod 0600 "$fixture/id_ed25519" "$fixture/password"
# Variables the module does not declare are read as expressions: hence the quotes.
# The inventory refers to the root credentials by ${RUSTFS_ROOT_*}, as `terraform apply` would
# pass them from the operator's environment.
(cd "$work/terraform/modules/aws-cluster" &&
  RUSTFS_ROOT_USER=terraform-admin RUSTFS_ROOT_PASSWORD=terraform-secret-1 \
    tf test -no-color -test-directory=tests/provisioner \
      -var "rustfs_provision=\"$PROVISION\"" -var "workdir=\"$fixture\"")
for f in mnmd.yaml mnsd.yaml; do
  if [ ! -s "$fixture/$f" ]; then
    echo "terraform-test: the provision step did not write $fixture/$f" >&2
    exit 1
  fi
done

echo "== cloud-init drive script (templates/setup-drives.sh.tftpl) on loop devices"
drives="$work/drives"
mkdir -p "$drives/render" "$drives/mnt"
for n in 1 2 3; do
  truncate -s 320M "$drives/vol$n.img"
  loops+=("$($SUDO losetup --find --show "$drives/vol$n.img")")
done
# Volume 3 already holds someone else's filesystem: the script must refuse to touch it.
$SUDO mkfs.ext4 -q -L other-data "${loops[2]}"
template="$work/terraform/modules/aws-cluster/templates/setup-drives.sh.tftpl"
cat >"$drives/render/main.tf" <<RENDER_END
output "script" {
  value = templatefile("$template", {
    drives = [
      { label = "rustfs-d1", volume_id = "vol-0aaaaaaaaaaaaaaa1", device = "${loops[0]}", mount = "$drives/mnt/disk1" },
      { label = "rustfs-d2", volume_id = "vol-0aaaaaaaaaaaaaaa2", device = "${loops[1]}", mount = "$drives/mnt/disk2" },
    ]
  })
}
output "foreign" {
  value = templatefile("$template", {
    drives = [{ label = "rustfs-d3", volume_id = "vol-0aaaaaaaaaaaaaaa3", device = "${loops[2]}", mount = "$drives/mnt/disk3" }]
  })
}
RENDER_END
(cd "$drives/render" && tf init >/dev/null && tf apply -auto-approve >/dev/null &&
  tf output -raw script >"$drives/setup.sh" && tf output -raw foreign >"$drives/foreign.sh")
shellcheck -s sh "$drives/setup.sh"
echo "# fstab of the drive-script test" >"$drives/fstab"
# In a mount namespace of its own, with a private /etc/fstab bound over the real one: no mount and
# no fstab line leaks to this machine.
# shellcheck disable=SC2016 # the inner script expands its own variables
$SUDO unshare --mount --propagation private sh -eu -c '
  d=$1
  [ -n "$d" ] && [ -f "$d/setup.sh" ]
  mount --bind "$d/fstab" /etc/fstab
  sh "$d/setup.sh"
  for n in 1 2; do
    mountpoint -q "$d/mnt/disk$n" || { echo "disk$n is not mounted" >&2; exit 1; }
    [ "$(findmnt -n -o FSTYPE "$d/mnt/disk$n")" = xfs ] || { echo "disk$n is not XFS" >&2; exit 1; }
    [ "$(findmnt -n -o LABEL "$d/mnt/disk$n")" = "rustfs-d$n" ] || { echo "disk$n is not labelled rustfs-d$n" >&2; exit 1; }
    grep -qx "LABEL=rustfs-d$n $d/mnt/disk$n xfs defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2" /etc/fstab ||
      { echo "fstab lacks disk$n by label with nofail:" >&2; cat /etc/fstab >&2; exit 1; }
  done
  echo kept >"$d/mnt/disk1/marker"
  # A second run must be harmless: no reformat, no new fstab line, a missing mount mounted again.
  umount "$d/mnt/disk2"
  sh "$d/setup.sh"
  [ "$(cat "$d/mnt/disk1/marker")" = kept ] || { echo "the second run reformatted disk1" >&2; exit 1; }
  mountpoint -q "$d/mnt/disk2" || { echo "the second run did not mount disk2 again" >&2; exit 1; }
  [ "$(grep -c "^LABEL=rustfs-d" /etc/fstab)" -eq 2 ] || { echo "the second run added fstab lines" >&2; exit 1; }
  # Unmounted, an empty mount point refuses writes instead of filling the root disk.
  umount "$d/mnt/disk2"
  if lsattr -d "$d/mnt/disk2" 2>/dev/null | cut -c5 | grep -q i && touch "$d/mnt/disk2/x" 2>/dev/null; then
    echo "an unmounted, immutable mount point took a write" >&2; exit 1
  fi
  if sh "$d/foreign.sh" 2>"$d/foreign.err"; then echo "a volume with another filesystem was accepted" >&2; exit 1; fi
  grep -q "refusing to touch it" "$d/foreign.err" || { cat "$d/foreign.err" >&2; exit 1; }
  umount "$d/mnt/disk1"
' sh "$drives"
[ "$($SUDO blkid -o value -s LABEL "${loops[2]}")" = other-data ] || {
  echo "terraform-test: the drive script changed a volume holding another filesystem" >&2
  exit 1
}

echo "terraform-test: all passed in $(($(date +%s) - started))s"
