# ---- Cluster -----------------------------------------------------------------------------------

variable "name" {
  description = "Cluster name: 1 to 40 lowercase letters, digits or '-', not starting with '-'. Names the inventory's cluster (and so the provisioner's state directory) and prefixes every AWS resource."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name ${jsonencode(var.name)} must be 1 to 40 lowercase letters, digits or '-', not starting with '-' (40 leaves room for the suffixes of AWS resource names)."
  }
}

variable "site" {
  description = "Site of this cluster (1 to 63 lowercase letters, digits or '-'), e.g. the region's name; the control plane files the cluster under it. Null: \"default\"."
  type        = string
  default     = null
}

variable "node_count" {
  description = "Number of nodes (EC2 instances): 4 or more, or 1 with single_node = true. Every erasure set spans up to 16 nodes, one drive each, so 4 nodes give EC 2+2 and survive losing one node."
  type        = number
  default     = 4
  nullable    = false

  validation {
    condition     = floor(var.node_count) == var.node_count && (var.single_node ? var.node_count == 1 : var.node_count >= 4)
    error_message = "node_count = ${var.node_count}: ${var.single_node ? "single_node = true runs exactly 1 node" : "a distributed cluster needs at least 4 nodes, so that an erasure set (EC 2+2 or wider) spans 4 hosts and survives losing one; for one node set single_node = true and node_count = 1"}."
  }

  validation {
    condition     = var.node_count <= 64
    error_message = "node_count: at most 64 nodes per cluster from this module; add capacity as another cluster or pool."
  }
}

variable "single_node" {
  description = "Explicitly ask for a single-node layout (node_count = 1): its drives form the erasure sets, so the cluster survives losing drives but not the instance."
  type        = bool
  default     = false
  nullable    = false
}

variable "drives_per_node" {
  description = "EBS data volumes per node (1 to 16), each formatted XFS and mounted at /mnt/diskN. Every node gets the same number. Fixed for the life of the cluster: a pool keeps its drive count (new volumes would not be formatted on running nodes)."
  type        = number
  default     = 4
  nullable    = false

  validation {
    condition     = floor(var.drives_per_node) == var.drives_per_node && var.drives_per_node >= 1 && var.drives_per_node <= 16
    error_message = "drives_per_node must be a whole number from 1 to 16."
  }

  validation {
    condition     = !var.single_node || var.drives_per_node >= 2
    error_message = "drives_per_node: a single node needs at least 2 drives to form an erasure set (4 gives EC 2+2)."
  }
}

variable "parity" {
  description = "Parity drives per erasure set (storage class EC:N). Null: half the set. The inventory module checks it against the set size."
  type        = number
  default     = null
}

variable "set_drive_count" {
  description = "Erasure-set size override (2 to 16). Null: chosen from the layout."
  type        = number
  default     = null
}

variable "tls" {
  description = "Serve S3 and inter-node RPC over TLS with certificates from the cluster CA that rustfs-provision makes. The load balancer's health checks then use HTTPS."
  type        = bool
  default     = true
  nullable    = false
}

variable "ports" {
  description = "Ports every node listens on: s3 (also inter-node RPC) and console."
  type = object({
    s3      = optional(number, 9000)
    console = optional(number, 9001)
  })
  default  = {}
  nullable = false
}

variable "binary" {
  description = "The rustfs binary rustfs-provision installs: path (on the machine running rustfs-provision; relative paths are relative to the inventory file) or url + sha256. The instances never download it themselves."
  type = object({
    path    = optional(string)
    url     = optional(string)
    sha256  = optional(string)
    version = optional(string)
  })
}

variable "credentials" {
  description = "Root credential files on the machine running rustfs-provision (user_file, password_file). Unset fields become the references $${RUSTFS_ROOT_USER} / $${RUSTFS_ROOT_PASSWORD}, resolved from that machine's environment when rustfs-provision runs. This module never takes the secrets themselves, so they never land in the Terraform state."
  type = object({
    user_file     = optional(string)
    password_file = optional(string)
  })
  default  = {}
  nullable = false
}

variable "control_plane" {
  description = "Optional control plane the cluster registers with after apply: address (http(s) URL) and token_file, or token as an environment reference such as $${RUSTFS_CONTROLPLANE_TOKEN}; site defaults to var.site."
  type = object({
    address    = string
    token      = optional(string)
    token_file = optional(string)
    site       = optional(string)
  })
  default = null

  validation {
    condition     = var.control_plane == null ? true : var.control_plane.token == null ? true : can(regex("^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$", var.control_plane.token))
    error_message = "control_plane.token must be an environment reference like $${RUSTFS_CONTROLPLANE_TOKEN} (or use token_file): a literal token would be stored in the Terraform state."
  }
}

# ---- Instances and drives ----------------------------------------------------------------------

variable "instance_type" {
  description = "EC2 instance type of every node (Nitro types expose EBS volumes as NVMe; older Xen types work too). rustfs-provision warns under 8 GiB of memory."
  type        = string
  default     = "m6i.large"
  nullable    = false
}

variable "architecture" {
  description = "CPU architecture of the instances and of the rustfs binary: x86_64 or arm64 (Graviton). Chooses the default AMI."
  type        = string
  default     = "x86_64"
  nullable    = false

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "ami_id" {
  description = "AMI of the nodes: a systemd Linux with cloud-init (Debian 12 or Ubuntu 22.04+ tested shapes). Null: the newest official Debian 12 AMI for the architecture, looked up once; later AMI releases never replace running nodes (ami is ignored after creation)."
  type        = string
  default     = null
}

variable "root_volume_size_gib" {
  description = "Size of each node's root volume (OS, binaries, logs) in GiB."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.root_volume_size_gib >= 8
    error_message = "root_volume_size_gib must be at least 8."
  }
}

variable "data_volume" {
  description = "Every EBS data volume: size_gib, type (gp3, gp2, io1, io2, st1, sc1), iops and throughput (MiB/s; gp3/io only), encrypted (default true) and kms_key_id (null: the AWS-managed key)."
  type = object({
    size_gib   = optional(number, 100)
    type       = optional(string, "gp3")
    iops       = optional(number)
    throughput = optional(number)
    encrypted  = optional(bool, true)
    kms_key_id = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["gp3", "gp2", "io1", "io2", "st1", "sc1"], var.data_volume.type)
    error_message = "data_volume.type must be one of gp3, gp2, io1, io2, st1, sc1."
  }

  validation {
    condition     = var.data_volume.size_gib >= (contains(["st1", "sc1"], var.data_volume.type) ? 125 : 1) && var.data_volume.size_gib <= 16384
    error_message = "data_volume.size_gib must be 1 to 16384 GiB (125 at least for st1 and sc1)."
  }

  validation {
    condition     = var.data_volume.throughput == null || var.data_volume.type == "gp3"
    error_message = "data_volume.throughput applies to gp3 only."
  }

  validation {
    condition     = var.data_volume.iops == null || contains(["gp3", "io1", "io2"], var.data_volume.type)
    error_message = "data_volume.iops applies to gp3, io1 and io2 only."
  }
}

# ---- Network ----------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR of the VPC this module creates when subnet_ids is empty; one public subnet per availability zone is carved from it (newbits 4)."
  type        = string
  default     = "10.42.0.0/16"
  nullable    = false

  validation {
    condition     = can(cidrsubnet(var.vpc_cidr, 4, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 24
    error_message = "vpc_cidr must be an IPv4 CIDR of /24 or larger, e.g. 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "Zones for the subnets this module creates (nodes are spread round-robin over them). Empty: the first three available zones of the region (fewer when node_count is smaller)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.availability_zones) <= 16 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones: at most 16, each once."
  }
}

variable "subnet_ids" {
  description = "Existing subnets to place the nodes in (round-robin, so give one per zone); the VPC is theirs and nothing network-wide is created. Empty: create a VPC, an internet gateway and one public subnet per zone."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(distinct(var.subnet_ids)) == length(var.subnet_ids) && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must be distinct subnet IDs (subnet-...)."
  }
}

variable "associate_public_ip" {
  description = "Give every node a public IPv4 address, so the operator's machine reaches it over SSH and S3 (restricted to operator_cidrs and allowed_*_cidrs). False: nodes are reached inside the VPC only (VPN, bastion, peering)."
  type        = bool
  default     = true
  nullable    = false
}

variable "node_address" {
  description = <<-EOT
    What the inventory gives as each host's address, used by rustfs-provision (SSH, health, S3 check) and by clients:
    - "public_dns" (default): the instance's public DNS name. Inside the VPC it resolves to the private IP,
      so nodes talk over the private network and the inter-node rule of the security group applies.
    - "private_ip": the private IP (run rustfs-provision from inside the VPC).
    - "private_dns": nodeN.<private_zone_name> in a Route 53 private zone (from inside the VPC).
  EOT
  type        = string
  default     = "public_dns"
  nullable    = false

  validation {
    condition     = contains(["public_dns", "private_ip", "private_dns"], var.node_address)
    error_message = "node_address must be public_dns, private_ip or private_dns."
  }

  validation {
    condition     = var.node_address != "public_dns" || var.associate_public_ip
    error_message = "node_address = \"public_dns\" needs associate_public_ip = true; without public addresses use private_ip or private_dns."
  }
}

variable "cluster_address" {
  description = "A dedicated cluster network for endpoints and inter-node RPC (the inventory's cluster_address, which needs a rustfs-provision that supports it): \"none\" (the default: nodes use their address), \"private_ip\", or \"private_dns\" (nodeN.<private_zone_name>, so the pool argument is https://node{1...N}.<zone>:9000/mnt/disk{1...M})."
  type        = string
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "private_ip", "private_dns"], var.cluster_address)
    error_message = "cluster_address must be none, private_ip or private_dns."
  }
}

variable "private_zone_name" {
  description = "Route 53 private hosted zone made for the nodes (nodeN.<zone> → private IP) when node_address or cluster_address is private_dns. Null: <name>.rustfs.internal."
  type        = string
  default     = null

  validation {
    condition     = var.private_zone_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]*[a-z0-9]$", coalesce(var.private_zone_name, "-")))
    error_message = "private_zone_name must be a lowercase DNS name such as prod.rustfs.internal."
  }
}

# ---- Access -----------------------------------------------------------------------------------

variable "operator_cidrs" {
  description = "Where the operator and rustfs-provision connect from (e.g. [\"203.0.113.7/32\"]): SSH, and the S3 and console ports (the provisioner checks health and S3 through every node)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.operator_cidrs) > 0 && alltrue([for c in var.operator_cidrs : can(cidrnetmask(c))])
    error_message = "operator_cidrs must list at least one IPv4 CIDR, e.g. [\"203.0.113.7/32\"]."
  }

  validation {
    condition     = !contains(var.operator_cidrs, "0.0.0.0/0")
    error_message = "operator_cidrs must not be 0.0.0.0/0: SSH to the nodes would be open to the internet; give your own address (curl -s https://checkip.amazonaws.com)/32."
  }
}

variable "allowed_s3_cidrs" {
  description = "Client networks allowed to the S3 port of the nodes and of the load balancer (besides operator_cidrs)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.allowed_s3_cidrs : can(cidrnetmask(c))])
    error_message = "allowed_s3_cidrs must be IPv4 CIDRs."
  }
}

variable "allowed_console_cidrs" {
  description = "Networks allowed to the console port (besides operator_cidrs)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.allowed_console_cidrs : can(cidrnetmask(c))])
    error_message = "allowed_console_cidrs must be IPv4 CIDRs."
  }
}

variable "ssh_user" {
  description = "Login user that cloud-init creates on every node with the SSH key and passwordless sudo; rustfs-provision logs in as this user."
  type        = string
  default     = "rustfs-admin"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.ssh_user)) && !contains(["root", "rustfs"], var.ssh_user)
    error_message = "ssh_user must be a Linux user name (lowercase, up to 32 characters), not root (cloud images refuse root logins) and not rustfs (the service user)."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for ssh_user on every node (the contents of e.g. ~/.ssh/id_ed25519.pub)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com|sk-ecdsa-sha2-nistp256@openssh.com) [A-Za-z0-9+/]+=*( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line (ssh-ed25519 AAAA... comment), e.g. file(\"~/.ssh/id_ed25519.pub\")."
  }
}

variable "ssh_private_key_path" {
  description = "Path of the matching private key on the machine running rustfs-provision; written into the inventory (ssh.key) and used by the cloud-init wait of the provision step. Never read by Terraform otherwise."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.ssh_private_key_path)) > 0
    error_message = "ssh_private_key_path must name the private key file, e.g. ~/.ssh/id_ed25519."
  }
}

# ---- Load balancer ----------------------------------------------------------------------------

variable "load_balancer" {
  description = <<-EOT
    An optional network load balancer in front of the nodes' S3 port, with health checks on /rustfs/health/ready
    (HTTPS when tls is on) so a node that is down or not yet part of the cluster gets no traffic.
    - enabled: create it (default false).
    - internal: inside the VPC only (default false: internet-facing, restricted to operator_cidrs and allowed_s3_cidrs).
    - certificate_arn: an ACM certificate for the name clients use; the listener then terminates TLS with it
      and re-encrypts to the nodes. Null: TCP pass-through, so clients see the nodes' certificates.
    - console: also forward the console port (default false).
  EOT
  type = object({
    enabled         = optional(bool, false)
    internal        = optional(bool, false)
    certificate_arn = optional(string)
    console         = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.load_balancer.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", coalesce(var.load_balancer.certificate_arn, "-")))
    error_message = "load_balancer.certificate_arn must be an ACM certificate ARN (arn:aws:acm:...)."
  }

  validation {
    condition     = var.load_balancer.certificate_arn == null || var.tls
    error_message = "load_balancer.certificate_arn needs tls = true: the load balancer re-encrypts to the nodes over TLS."
  }
}

# ---- Provisioning -----------------------------------------------------------------------------

variable "provision" {
  description = <<-EOT
    Optionally run rustfs-provision from `terraform apply` once the nodes exist (a terraform_data step on this machine):
    - enabled: run it (default false; otherwise run it yourself with the inventory_yaml output).
    - command: the rustfs-provision executable (default "rustfs-provision" from PATH).
    - arguments: what to run; the inventory file is appended (default apply --yes --accept-new: host keys of the
      new instances are trusted on first use and pinned in the provisioner's state from then on).
    - inventory_file: where the inventory is written (default inventory.yaml beside the root module); relative
      binary and key paths in the inventory are relative to its directory.
    - wait_for_cloud_init: first wait over SSH until every node's cloud-init is done and its drives are mounted.
    The root credentials come from RUSTFS_ROOT_USER / RUSTFS_ROOT_PASSWORD in the environment of `terraform apply`
    (or the credentials files). The step runs again whenever the inventory or an instance changes.
  EOT
  type = object({
    enabled             = optional(bool, false)
    command             = optional(string, "rustfs-provision")
    arguments           = optional(list(string), ["apply", "--yes", "--accept-new"])
    inventory_file      = optional(string)
    wait_for_cloud_init = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.provision.arguments) > 0
    error_message = "provision.arguments must name a rustfs-provision command, e.g. [\"apply\", \"--yes\", \"--accept-new\"]."
  }
}

variable "tags" {
  description = "Tags added to every AWS resource of the cluster (besides Name and rustfs:cluster)."
  type        = map(string)
  default     = {}
  nullable    = false
}
