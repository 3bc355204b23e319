# The inventory module: hosts and cluster settings in, the `inventory.yaml` that rustfs-provision
# reads (version 1) and the `rustfs server` pool arguments out. No provider: everything here is
# computed at plan time, so bad input fails `terraform plan` with a message naming what to fix.
#
# Checks: validation blocks check each variable, reading other variables and only those locals
# that do not depend on the variable itself (Terraform forbids the cycle); the rules that need
# locals computed from var.hosts and var.pools together (pool membership, erasure-set split,
# ellipsis pools) are preconditions of the outputs (outputs.tf).
# Every local must evaluate without error on bad input too (duplicate names, unknown pool members,
# empty pools), or an evaluation error would hide the messages: hence the `...` grouping and `try`s.

locals {
  node_hosts = [for h in var.hosts : h if contains(h.roles, "node")]
  lb_hosts   = [for h in var.hosts : h if contains(h.roles, "load_balancer")]

  # Name → [host, ...]: a list, so duplicate names group instead of failing here.
  node_by_name = { for h in local.node_hosts : h.name => h... }

  sites = distinct(compact(concat([var.site == null ? "" : var.site], [for h in var.hosts : h.site == null ? "" : h.site])))
  site  = length(local.sites) > 0 ? local.sites[0] : "default"

  # Pools as host names; without var.pools, one pool of every node host.
  pools       = length(var.pools) == 0 ? [[for h in local.node_hosts : h.name]] : var.pools
  pool_labels = [for i, _ in local.pools : length(var.pools) == 0 ? "the cluster" : "pools[${i}]"]
  # Host name → pool index, from var.pools alone (the host validations read it).
  pool_of_name = merge([for i, p in var.pools : { for n in distinct(p) : n => i }]...)
  pool_errors = length(var.pools) == 0 ? [] : concat(
    flatten([for i, p in var.pools : [for n in p : "pools[${i}] names ${jsonencode(n)}, which is not a host with the \"node\" role" if !contains(keys(local.node_by_name), n)]]),
    [for h in local.node_hosts : "host ${h.name} is in no pool" if !contains(flatten(var.pools), h.name)],
  )
  # The node hosts of each pool (unknown names left out: pool_errors reports them).
  pool_members = [for p in local.pools : [for n in p : local.node_by_name[n][0] if contains(keys(local.node_by_name), n)]]

  # Erasure-set size per pool, as rustfs_common::layout::set_drive_count chooses it: with 4 or
  # more nodes one drive per node up to 16; with fewer, the largest size ≤ 16 that splits the
  # drives evenly with the same number from each node. Null when no size fits.
  layouts = [
    for i, m in local.pool_members : {
      nodes    = length(m)
      per_host = length(m) > 0 ? length(m[0].drives) : 0
      total    = length(m) > 0 ? length(m) * length(m[0].drives) : 0
      even     = length(distinct([for h in m : length(h.drives)])) == 1
      fits = length(m) == 0 ? [] : [
        for s in range(16, 0, -1) : s
        if(length(m) * length(m[0].drives)) % s == 0 && (length(m) >= 4 ? s <= length(m) : s % length(m) == 0)
      ]
    }
  ]
  set_sizes = [
    for l in local.layouts : !l.even || l.total == 0 ? null : (
      var.set_drive_count != null ? (contains(l.fits, var.set_drive_count) ? var.set_drive_count : null) :
      (length(l.fits) > 0 && try(l.fits[0] >= 2, false) ? l.fits[0] : null)
    )
  ]
  unsettable_pools = [
    for i, l in local.layouts : (
      l.total == 1 ? "${local.pool_labels[i]} has 1 drive in total, which cannot form an erasure set: a pool needs at least 2 drives" :
      "${l.total} drives on ${l.nodes} host(s) in ${local.pool_labels[i]} cannot be split into erasure sets of 2 to 16 drives with the same number of drives from each host — change the number of hosts or of drives per host"
    )
    if var.set_drive_count == null && l.even && l.total > 0 && local.set_sizes[i] == null
  ]

  # Endpoints: the cluster network when a host has one, else its address.
  scheme        = var.tls ? "https" : "http"
  endpoint_host = { for h in local.node_hosts : h.name => coalesce(h.cluster_address, h.address)... }

  # Ellipsis runs ("n1", "n2", "n3" → "n{1...3}"), the same rule as the provisioner's: one
  # numbered run (the last digits of each item) with a common prefix and suffix, zero padding
  # kept. The first half of run_inputs is each pool's endpoint hosts, the second its drive paths.
  run_re = "^(.*?)([0-9]+)([^0-9]*)$"
  run_inputs = concat(
    [for m in local.pool_members : [for h in m : local.endpoint_host[h.name][0]]],
    [for m in local.pool_members : length(m) > 0 ? m[0].drives : []],
  )
  runs = [
    for items in local.run_inputs : length(items) == 0 ? null : length(items) == 1 ? items[0] : try(
      length(distinct([for s in items : regex(local.run_re, s)[0]])) == 1 &&
      length(distinct([for s in items : regex(local.run_re, s)[2]])) == 1 &&
      alltrue([
        for k, s in items : tonumber(regex(local.run_re, s)[1]) == tonumber(regex(local.run_re, items[0])[1]) + k &&
        (length(regex(local.run_re, items[0])[1]) == 1 || length(regex(local.run_re, s)[1]) == length(regex(local.run_re, items[0])[1]))
      ]) ?
      format("%s{%s...%s}%s",
        regex(local.run_re, items[0])[0],
        regex(local.run_re, items[0])[1],
        length(regex(local.run_re, items[0])[1]) > 1 ? regex(local.run_re, items[length(items) - 1])[1] : tostring(tonumber(regex(local.run_re, items[length(items) - 1])[1])),
        regex(local.run_re, items[0])[2],
      ) : null,
      null,
    )
  ]
  pool_args = [
    for i, m in local.pool_members : (
      local.runs[i] != null && local.runs[length(local.pool_members) + i] != null &&
      alltrue([for h in m : h.drives == m[0].drives])
      ) ? format("%s://%s:%d%s", local.scheme,
      strcontains(local.runs[i], ":") ? "[${local.runs[i]}]" : local.runs[i],
    var.ports.s3, local.runs[length(local.pool_members) + i]) : null
  ]
  pools_without_ellipsis = [for i, a in local.pool_args : i if a == null]
  # One pool whose hosts or drives are not numbered: every drive listed one by one, drive-major
  # so consecutive drives sit on different hosts (what the provisioner writes for one pool).
  explicit_args = flatten([
    for d in range(length(local.pool_members[0]) > 0 ? length(local.pool_members[0][0].drives) : 0) : [
      for h in local.pool_members[0] : format("%s://%s:%d%s", local.scheme,
        strcontains(local.endpoint_host[h.name][0], ":") ? "[${local.endpoint_host[h.name][0]}]" : local.endpoint_host[h.name][0],
      var.ports.s3, try(h.drives[d], ""))
    ]
  ])
  server_args = length(local.pools) == 1 && local.pool_args[0] == null ? local.explicit_args : compact(local.pool_args)

  # What the template writes; null fields are left out so the provisioner's defaults apply.
  credentials = {
    user          = var.credentials.user == null && var.credentials.user_file == null ? "$${RUSTFS_ROOT_USER}" : var.credentials.user
    user_file     = var.credentials.user_file
    password      = var.credentials.password == null && var.credentials.password_file == null ? "$${RUSTFS_ROOT_PASSWORD}" : var.credentials.password
    password_file = var.credentials.password_file
  }
  control_plane = var.control_plane == null ? null : {
    fields = { for k, v in {
      address    = var.control_plane.address
      token      = var.control_plane.token
      token_file = var.control_plane.token_file
      site       = coalesce(var.control_plane.site, local.site)
    } : k => v if v != null }
    install = var.control_plane.install
  }
  inventory_hosts = [
    for h in local.node_hosts : {
      name            = h.name
      address         = h.address
      cluster_address = h.cluster_address
      drives          = h.drives
      ssh = { for k, v in {
        user     = h.ssh_user
        port     = h.ssh_port
        key      = h.ssh_key
        host_key = h.ssh_host_key
      } : k => v if v != null }
    }
  ]

  # The template's trailing directives eat the last newline; a text file ends with one.
  inventory_yaml = "${trimsuffix(local.inventory_text, "\n")}\n"
  inventory_text = templatefile("${path.module}/inventory.yaml.tftpl", {
    cluster_name    = var.cluster_name
    binary          = { for k, v in var.binary : k => v if v != null }
    ssh             = { for k, v in var.ssh : k => v if v != null }
    hosts           = local.inventory_hosts
    pools           = var.pools
    storage_class   = var.parity == null ? null : "EC:${var.parity}"
    set_drive_count = var.set_drive_count
    ports           = var.ports
    credentials     = { for k, v in local.credentials : k => v if v != null }
    tls             = var.tls
    control_plane   = local.control_plane
    install_dir     = var.install_dir
    config_dir      = var.config_dir
  })
}
