variable "cluster_name" {
  description = "Cluster name: 1 to 63 lowercase letters, digits or '-', not starting with '-'. Names the provisioner's state directory and the service."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.cluster_name))
    error_message = "cluster_name ${jsonencode(var.cluster_name)} must be 1 to 63 lowercase letters, digits or '-', not starting with '-'."
  }
}

variable "hosts" {
  description = <<-EOT
    The machines of the cluster, in order (the order is the order of the drives in the erasure sets).
    - name: unique host name (1 to 63 lowercase letters, digits or '-'); used in pools and output.
    - address: IP address or DNS name that the provisioner (SSH) and clients use.
    - cluster_address: optional address on a dedicated cluster network, used for the endpoints and
      inter-node traffic instead of address (emitted only when set; needs a provisioner that knows it).
    - drives: absolute paths of the host's drives (each ideally its own filesystem).
    - site: optional site the host stands in; every host of one inventory must share one site.
    - ssh_user, ssh_port, ssh_key, ssh_host_key: optional per-host SSH overrides
      (ssh_host_key pins "SHA256:..." as `ssh-keygen -lf` prints it).
    - roles: "node" (runs rustfs; the default) and/or "load_balancer" (a host that runs a load
      balancer in front of the nodes; listed in the load_balancer output, not in the inventory
      unless it is also a node).
  EOT
  type = list(object({
    name            = string
    address         = string
    cluster_address = optional(string)
    drives          = optional(list(string), [])
    site            = optional(string)
    ssh_user        = optional(string)
    ssh_port        = optional(number)
    ssh_key         = optional(string)
    ssh_host_key    = optional(string)
    roles           = optional(list(string), ["node"])
  }))

  # Every rule reads var.hosts itself (never a local computed from it: that local waits for these
  # rules). The layout rules also read var.pools through local.pool_of_name, which needs var.pools
  # only; the pool of a host is its index in var.pools, 0 without pools.
  validation {
    condition     = anytrue([for h in var.hosts : contains(h.roles, "node")])
    error_message = "hosts: list at least one host with the \"node\" role."
  }

  validation {
    condition     = alltrue([for h in var.hosts : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", h.name))])
    error_message = "hosts: every name must be 1 to 63 lowercase letters, digits or '-', not starting with '-'; bad: ${join(", ", [for h in var.hosts : jsonencode(h.name) if !can(regex("^[a-z0-9][a-z0-9-]{0,62}$", h.name))])}."
  }

  validation {
    condition     = length(distinct(var.hosts[*].name)) == length(var.hosts)
    error_message = "hosts: duplicate host name(s) ${join(", ", [for n, g in { for h in var.hosts : h.name => h.name... } : n if length(g) > 1])}: every host needs a name of its own."
  }

  validation {
    condition     = alltrue([for h in var.hosts : can(regex("^[^\\s/]+$", h.address)) && (h.cluster_address == null || can(regex("^[^\\s/]+$", coalesce(h.cluster_address, "-"))))])
    error_message = "hosts: address and cluster_address must be a host name or IP address (no spaces, no '/'); bad on ${join(", ", [for h in var.hosts : h.name if !can(regex("^[^\\s/]+$", h.address)) || (h.cluster_address != null && !can(regex("^[^\\s/]+$", coalesce(h.cluster_address, "-"))))])}."
  }

  validation {
    condition     = length(distinct([for h in var.hosts : lower(h.address)])) == length(var.hosts)
    error_message = "hosts: duplicate address ${join(", ", [for a, g in { for h in var.hosts : lower(h.address) => h.name... } : "${a} (hosts ${join(" and ", g)})" if length(g) > 1])}: every host needs an address of its own."
  }

  validation {
    condition     = length(distinct([for h in var.hosts : lower(h.cluster_address) if h.cluster_address != null])) == length([for h in var.hosts : h if h.cluster_address != null])
    error_message = "hosts: duplicate cluster_address ${join(", ", [for a, g in { for h in var.hosts : lower(h.cluster_address) => h.name... if h.cluster_address != null } : "${a} (hosts ${join(" and ", g)})" if length(g) > 1])}: every host needs a cluster address of its own."
  }

  validation {
    condition     = alltrue([for h in var.hosts : length(h.roles) > 0 && length(setsubtract(h.roles, ["node", "load_balancer"])) == 0])
    error_message = "hosts: roles must be a non-empty list of \"node\" and/or \"load_balancer\"; bad on ${join(", ", [for h in var.hosts : h.name if length(h.roles) == 0 || length(setsubtract(h.roles, ["node", "load_balancer"])) > 0])}."
  }

  validation {
    condition     = alltrue([for h in var.hosts : length(h.drives) > 0 if contains(h.roles, "node")])
    error_message = "hosts: a host with the \"node\" role needs at least one drive; none on ${join(", ", [for h in var.hosts : h.name if contains(h.roles, "node") && length(h.drives) == 0])}."
  }

  validation {
    condition     = alltrue([for h in var.hosts : contains(h.roles, "node") || length(h.drives) == 0])
    error_message = "hosts: drives are for hosts with the \"node\" role; ${join(", ", [for h in var.hosts : h.name if !contains(h.roles, "node") && length(h.drives) > 0])} only balance load — add \"node\" to their roles or drop their drives."
  }

  validation {
    condition = alltrue(flatten([
      for h in var.hosts : [
        for i, d in h.drives : startswith(d, "/") && trimsuffix(d, "/") != "" && !contains(split("/", d), "..") &&
        index([for x in h.drives : trimsuffix(x, "/")], trimsuffix(d, "/")) == i
      ]
    ]))
    error_message = "hosts: every drive must be an absolute path other than / without '..', listed once per host; bad: ${join(", ", flatten([
      for h in var.hosts : [
        for i, d in h.drives : "${h.name} ${jsonencode(d)}"
        if !(startswith(d, "/") && trimsuffix(d, "/") != "" && !contains(split("/", d), "..") && index([for x in h.drives : trimsuffix(x, "/")], trimsuffix(d, "/")) == i)
      ]
    ]))}."
  }

  validation {
    condition     = alltrue([for h in var.hosts : h.ssh_port == null || try(h.ssh_port >= 1 && h.ssh_port <= 65535 && floor(h.ssh_port) == h.ssh_port, false)])
    error_message = "hosts: ssh_port must be 1 to 65535; bad on ${join(", ", [for h in var.hosts : h.name if !(h.ssh_port == null || try(h.ssh_port >= 1 && h.ssh_port <= 65535 && floor(h.ssh_port) == h.ssh_port, false))])}."
  }

  validation {
    condition     = alltrue([for h in var.hosts : h.ssh_host_key == null || can(regex("^SHA256:[A-Za-z0-9+/]{43}$", coalesce(h.ssh_host_key, "-")))])
    error_message = "hosts: ssh_host_key must be a SHA256 fingerprint like SHA256:AbC... (ssh-keygen -lf KEY.pub prints it); bad on ${join(", ", [for h in var.hosts : h.name if !(h.ssh_host_key == null || can(regex("^SHA256:[A-Za-z0-9+/]{43}$", coalesce(h.ssh_host_key, "-"))))])}."
  }

  validation {
    condition     = alltrue([for h in var.hosts : h.site == null || can(regex("^[a-z0-9][a-z0-9-]{0,62}$", coalesce(h.site, "-")))])
    error_message = "hosts: site must be 1 to 63 lowercase letters, digits or '-'; bad on ${join(", ", [for h in var.hosts : h.name if !(h.site == null || can(regex("^[a-z0-9][a-z0-9-]{0,62}$", coalesce(h.site, "-"))))])}."
  }

  validation {
    condition     = length(distinct(compact(concat([var.site == null ? "" : var.site], [for h in var.hosts : h.site == null ? "" : h.site])))) <= 1
    error_message = "hosts: the hosts span several sites (${join(", ", distinct(compact(concat([var.site == null ? "" : var.site], [for h in var.hosts : h.site == null ? "" : h.site]))))}); one inventory is one cluster in one site — call this module once per site (see terraform/examples/two-sites) and link the sites by replication."
  }

  validation {
    condition = var.single_node || alltrue([
      for g in values({ for h in var.hosts : tostring(lookup(local.pool_of_name, h.name, 0)) => h.name... if contains(h.roles, "node") && (length(var.pools) == 0 || contains(keys(local.pool_of_name), h.name)) }) :
      length(g) >= 4
    ])
    error_message = "hosts: ${join("; ", [
      for k, g in { for h in var.hosts : tostring(lookup(local.pool_of_name, h.name, 0)) => h.name... if contains(h.roles, "node") && (length(var.pools) == 0 || contains(keys(local.pool_of_name), h.name)) } :
      "${length(g)} host(s) in ${length(var.pools) == 0 ? "the cluster" : "pools[${k}]"} (${join(", ", g)})" if length(g) < 4
    ])}: a distributed cluster needs at least 4 hosts per pool, so that an erasure set (EC 2+2 or wider) spans 4 hosts and survives losing one — add hosts, or use one host with single_node = true."
  }

  validation {
    condition     = !var.single_node || length([for h in var.hosts : h if contains(h.roles, "node")]) == 1
    error_message = "hosts: single_node = true needs exactly one host with the \"node\" role, not ${length([for h in var.hosts : h if contains(h.roles, "node")])}; for several hosts use 4 or more and single_node = false."
  }

  validation {
    condition = alltrue([
      for g in values({ for h in var.hosts : tostring(lookup(local.pool_of_name, h.name, 0)) => length(h.drives)... if contains(h.roles, "node") && (length(var.pools) == 0 || contains(keys(local.pool_of_name), h.name)) }) :
      length(distinct(g)) == 1
    ])
    error_message = "hosts: every host of a pool needs the same number of drives: ${join("; ", [
      for k, g in { for h in var.hosts : tostring(lookup(local.pool_of_name, h.name, 0)) => h... if contains(h.roles, "node") && (length(var.pools) == 0 || contains(keys(local.pool_of_name), h.name)) } :
      "${length(var.pools) == 0 ? "" : "pools[${k}]: "}${join(", ", [for h in g : "${h.name} has ${length(h.drives)}"])}" if length(distinct([for h in g : length(h.drives)])) > 1
    ])}."
  }
}

variable "single_node" {
  description = "Explicitly allow a single-node layout: one host whose drives form the erasure sets (no tolerance for losing the host). Without it a cluster needs at least 4 hosts per pool."
  type        = bool
  default     = false
  nullable    = false
}

variable "site" {
  description = "Site of the cluster (1 to 63 lowercase letters, digits or '-'); hosts may repeat it in their own site field. Used as the control plane's site unless control_plane.site is set. Null: \"default\", or the hosts' site."
  type        = string
  default     = null

  validation {
    condition     = var.site == null || can(regex("^[a-z0-9][a-z0-9-]{0,62}$", coalesce(var.site, "-")))
    error_message = "site ${jsonencode(var.site)} must be 1 to 63 lowercase letters, digits or '-', not starting with '-'."
  }
}

variable "pools" {
  description = "Server pools as lists of host names; empty means one pool of every node host. Several pools need consecutively numbered addresses and drive paths (10.0.0.{1...4}, /mnt/disk{1...4})."
  type        = list(list(string))
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.pools : length(p) > 0])
    error_message = "pools: every pool lists at least one host; empty: ${join(", ", [for i, p in var.pools : "pools[${i}]" if length(p) == 0])}."
  }

  validation {
    condition     = length(flatten(var.pools)) == length(distinct(flatten(var.pools)))
    error_message = "pools: each host belongs to exactly one pool; listed more than once: ${join(", ", [for n in distinct(flatten(var.pools)) : n if length([for x in flatten(var.pools) : x if x == n]) > 1])}."
  }
}

variable "parity" {
  description = "Parity drives per erasure set (the storage class EC:N). Null: half the set (4 drives: EC 2+2). At most half the set size."
  type        = number
  default     = null

  validation {
    condition     = var.parity == null || try(var.parity >= 0 && floor(var.parity) == var.parity, false)
    error_message = "parity must be a whole number of drives, 0 or more."
  }

  validation {
    condition     = var.parity == null || alltrue([for s in local.set_sizes : s == null || try(var.parity <= floor(s / 2), false)])
    error_message = "parity: ${join("; ", [for i, s in local.set_sizes : "EC:${var.parity} exceeds half of the erasure sets of ${s} drives in ${local.pool_labels[i]} (at most EC:${floor(s / 2)})" if s != null && try(var.parity > floor(s / 2), false)])}."
  }
}

variable "set_drive_count" {
  description = "Erasure-set size override (2 to 16). Null: chosen from the layout (one drive per node with 4 to 16 nodes, 16 beyond; the largest even split on one node). Must split every pool evenly with the same number of drives from each node."
  type        = number
  default     = null

  validation {
    condition     = var.set_drive_count == null || try(var.set_drive_count >= 2 && var.set_drive_count <= 16 && floor(var.set_drive_count) == var.set_drive_count, false)
    error_message = "set_drive_count must be a whole number from 2 to 16."
  }

  validation {
    condition = var.set_drive_count == null || alltrue([for l in local.layouts : !l.even || l.total == 0 || contains(l.fits, coalesce(var.set_drive_count, 0))])
    error_message = "set_drive_count: ${join("; ", [
      for i, l in local.layouts : "${coalesce(var.set_drive_count, 0)} does not split the ${l.total} drives of ${local.pool_labels[i]} (${l.nodes} host(s) × ${l.per_host}) into equal sets of at most 16 with the same number of drives from each host${length([for s in l.fits : s if s >= 2]) > 0 ? " (sizes that do: ${join(", ", [for s in l.fits : tostring(s) if s >= 2])})" : ""}"
      if var.set_drive_count != null && l.even && l.total > 0 && !contains(l.fits, coalesce(var.set_drive_count, 0))
    ])}."
  }
}

variable "ports" {
  description = "Ports every node listens on: s3 (also inter-node RPC, default 9000) and console (default 9001)."
  type = object({
    s3      = optional(number, 9000)
    console = optional(number, 9001)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for p in [var.ports.s3, var.ports.console] : p >= 1 && p <= 65535 && floor(p) == p]) && var.ports.s3 != var.ports.console
    error_message = "ports: s3 (${var.ports.s3}) and console (${var.ports.console}) must be two different ports from 1 to 65535."
  }
}

variable "tls" {
  description = "Serve S3 and inter-node RPC over TLS with certificates from the cluster CA (the provisioner makes them). Emitted explicitly; false sends credentials and data in the clear."
  type        = bool
  default     = true
  nullable    = false
}

variable "binary" {
  description = "The rustfs binary to install: path (a file on the machine that runs rustfs-provision, relative to the inventory file) or url + sha256 (64 hex digits). version labels /opt/rustfs/bin/rustfs-VERSION."
  type = object({
    path    = optional(string)
    url     = optional(string)
    sha256  = optional(string)
    version = optional(string)
  })

  validation {
    condition     = (var.binary.path == null) != (var.binary.url == null)
    error_message = "binary: set path (a local rustfs binary) or url + sha256, exactly one of path and url."
  }

  validation {
    condition     = var.binary.url == null || (can(regex("^https?://", coalesce(var.binary.url, "-"))) && var.binary.sha256 != null)
    error_message = "binary: url must be an http:// or https:// URL and needs sha256."
  }

  validation {
    condition     = var.binary.sha256 == null || can(regex("^[0-9a-fA-F]{64}$", coalesce(var.binary.sha256, "-")))
    error_message = "binary: sha256 must be 64 hex digits."
  }

  validation {
    condition     = var.binary.version == null || can(regex("^[A-Za-z0-9._+-]+$", coalesce(var.binary.version, "-")))
    error_message = "binary: version may only hold letters, digits and . - _ +."
  }
}

variable "ssh" {
  description = "SSH defaults for every host: user (default root; any other user needs passwordless sudo), port (22), key (private key file of the machine running rustfs-provision), known_hosts (~/.ssh/known_hosts)."
  type = object({
    user        = optional(string, "root")
    port        = optional(number, 22)
    key         = optional(string)
    known_hosts = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.ssh.port >= 1 && var.ssh.port <= 65535 && floor(var.ssh.port) == var.ssh.port
    error_message = "ssh.port must be 1 to 65535."
  }

  validation {
    condition     = var.ssh.key != null || alltrue([for h in local.node_hosts : h.ssh_key != null])
    error_message = "ssh.key: set a private key for every host (ssh.key) or for each host (hosts[].ssh_key); missing on ${join(", ", [for h in local.node_hosts : h.name if h.ssh_key == null])}."
  }
}

variable "credentials" {
  description = "Root credentials: user or user_file, password or password_file. Null fields default to the environment references $${RUSTFS_ROOT_USER} / $${RUSTFS_ROOT_PASSWORD}, which rustfs-provision resolves when it runs, so no secret lands in the Terraform state. Literal values do land in the state."
  type = object({
    user          = optional(string)
    user_file     = optional(string)
    password      = optional(string)
    password_file = optional(string)
  })
  default   = {}
  nullable  = false
  sensitive = true

  validation {
    condition     = var.credentials.user == null || var.credentials.user_file == null
    error_message = "credentials: set user or user_file, not both."
  }

  validation {
    condition     = var.credentials.password == null || var.credentials.password_file == null
    error_message = "credentials: set password or password_file, not both."
  }
}

variable "control_plane" {
  description = "Optional control plane the cluster registers with after apply: address (http(s) URL), token (use $${RUSTFS_CONTROLPLANE_TOKEN}) or token_file, site (default: the cluster's site), or install = { host, binary, port } to run it on one of the hosts."
  type = object({
    address    = optional(string)
    token      = optional(string)
    token_file = optional(string)
    site       = optional(string)
    install = optional(object({
      host   = string
      binary = string
      port   = optional(number, 7070)
    }))
  })
  default = null

  validation {
    condition     = var.control_plane == null ? true : var.control_plane.address != null || var.control_plane.install != null
    error_message = "control_plane: set address (an http(s):// URL) or install."
  }

  validation {
    condition     = var.control_plane == null ? true : can(regex("^https?://", coalesce(var.control_plane.address, "https://")))
    error_message = "control_plane.address must be an http:// or https:// URL."
  }

  validation {
    condition = var.control_plane == null ? true : (
      var.control_plane.install != null ?
      var.control_plane.token == null && var.control_plane.token_file == null :
      (var.control_plane.token == null) != (var.control_plane.token_file == null)
    )
    error_message = "control_plane: give exactly one of token and token_file; with install give neither (the token is read from the installed control plane)."
  }

  validation {
    condition     = var.control_plane == null ? true : var.control_plane.install == null ? true : contains([for h in local.node_hosts : h.name], var.control_plane.install.host)
    error_message = "control_plane.install.host must be the name of a host with the \"node\" role."
  }

  validation {
    condition     = var.control_plane == null ? true : var.control_plane.site == null ? true : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", var.control_plane.site))
    error_message = "control_plane.site must be 1 to 63 lowercase letters, digits or '-'."
  }
}

variable "install_dir" {
  description = "Where binaries go on each host. Null: the provisioner's default (/opt/rustfs)."
  type        = string
  default     = null

  validation {
    condition     = var.install_dir == null || can(regex("^/.+", coalesce(var.install_dir, "-")))
    error_message = "install_dir must be an absolute path other than /."
  }
}

variable "config_dir" {
  description = "Where configuration goes on each host. Null: the provisioner's default (/etc/rustfs)."
  type        = string
  default     = null

  validation {
    condition     = var.config_dir == null || can(regex("^/.+", coalesce(var.config_dir, "-")))
    error_message = "config_dir must be an absolute path other than /."
  }
}
