# What the inventory module writes, checked on the plan (no provider, nothing applied). Each run
# decodes the YAML it outputs, so the assertions are about the document rustfs-provision reads.

variables {
  cluster_name = "prod"
  hosts = [
    for i in range(1, 5) : {
      name    = "node${i}"
      address = "10.0.0.${10 + i}"
      drives  = [for d in range(1, 5) : "/mnt/disk${d}"]
    }
  ]
  binary = { path = "./target/release/rustfs" }
  ssh    = { user = "admin", key = "~/.ssh/id_ed25519" }
}

run "mnmd_4x4_inventory" {
  command = plan

  assert {
    condition     = yamldecode(output.inventory_yaml).version == 1 && yamldecode(output.inventory_yaml).cluster.name == "prod"
    error_message = "the inventory must be version 1 of cluster prod"
  }
  assert {
    condition = yamldecode(output.inventory_yaml).hosts == [
      for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${10 + i}", drives = ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3", "/mnt/disk4"] }
    ]
    error_message = "hosts must be written in order with their drives and nothing else (no cluster_address, no ssh block when unset)"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).binary == { path = "./target/release/rustfs" }
    error_message = "binary must hold only path"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).ssh == { user = "admin", port = 22, key = "~/.ssh/id_ed25519" }
    error_message = "ssh defaults must be written with the default port"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).tls == { enabled = true }
    error_message = "TLS must be on unless turned off, and written explicitly"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).ports == { s3 = 9000, console = 9001 }
    error_message = "ports must default to 9000/9001"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).credentials == { user = "$${RUSTFS_ROOT_USER}", password = "$${RUSTFS_ROOT_PASSWORD}" }
    error_message = "credentials must default to environment references, so no secret lands in the state"
  }
  assert {
    condition     = !contains(keys(yamldecode(output.inventory_yaml)), "pools") && !contains(keys(yamldecode(output.inventory_yaml)), "storage_class") && !contains(keys(yamldecode(output.inventory_yaml)), "control_plane")
    error_message = "unset optional sections must be left out so the provisioner's defaults apply"
  }
  assert {
    condition     = output.server_args == tolist(["https://10.0.0.{11...14}:9000/mnt/disk{1...4}"])
    error_message = "numbered hosts and drives must give one ellipsis argument: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.server_command == "rustfs server https://10.0.0.{11...14}:9000/mnt/disk{1...4}"
    error_message = "server_command is the whole command line"
  }
  assert {
    condition     = output.erasure == [{ hosts = ["node1", "node2", "node3", "node4"], drives_per_host = 4, set_drive_count = 4, sets = 4, parity = 2, data = 2, read_quorum = 2, write_quorum = 3 }]
    error_message = "4 hosts × 4 drives are four sets of 4 with EC 2+2 (read 2, write 3): ${jsonencode(output.erasure)}"
  }
  assert {
    condition     = output.s3_endpoints == tolist(["https://10.0.0.11:9000", "https://10.0.0.12:9000", "https://10.0.0.13:9000", "https://10.0.0.14:9000"])
    error_message = "clients reach every node on its address"
  }
  assert {
    condition     = output.site == "default"
    error_message = "without a site the cluster is in site default"
  }
}

run "mnsd_4x1_plain_http" {
  command = plan

  variables {
    hosts = [for i in range(1, 5) : { name = "n${i}", address = "n${i}.example.net", drives = ["/data"] }]
    tls   = false
  }

  assert {
    condition     = yamldecode(output.inventory_yaml).tls == { enabled = false }
    error_message = "tls = false must be written as enabled: false"
  }
  assert {
    condition     = output.server_args == tolist(["http://n{1...4}.example.net:9000/data"])
    error_message = "one drive per host: an ellipsis over the hosts only: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.erasure[0].set_drive_count == 4 && output.erasure[0].sets == 1 && output.erasure[0].parity == 2
    error_message = "4 × 1 is one set of 4, EC 2+2"
  }
}

run "cluster_network_is_used_for_endpoints" {
  command = plan

  variables {
    hosts = [
      for i in range(1, 5) : {
        name            = "node${i}"
        address         = "203.0.113.${20 + i * 7}"
        cluster_address = "node${i}.prod.rustfs.internal"
        drives          = [for d in range(1, 3) : "/mnt/disk${d}"]
      }
    ]
  }

  assert {
    condition     = [for h in yamldecode(output.inventory_yaml).hosts : h.cluster_address] == [for i in range(1, 5) : "node${i}.prod.rustfs.internal"]
    error_message = "cluster_address must be written when set"
  }
  assert {
    condition     = output.server_args == tolist(["https://node{1...4}.prod.rustfs.internal:9000/mnt/disk{1...2}"])
    error_message = "endpoints must use the cluster network: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.s3_endpoints[0] == "https://203.0.113.27:9000" && output.nodes[0].cluster_address == "node1.prod.rustfs.internal"
    error_message = "clients keep using the address"
  }
}

run "unnumbered_hosts_list_every_drive_drive_major" {
  command = plan

  variables {
    hosts = [for n in ["alpha", "bravo", "charlie", "delta"] : { name = n, address = "${n}.example.net", drives = ["/srv/a", "/srv/b"] }]
  }

  assert {
    condition = output.server_args == tolist([
      "https://alpha.example.net:9000/srv/a", "https://bravo.example.net:9000/srv/a", "https://charlie.example.net:9000/srv/a", "https://delta.example.net:9000/srv/a",
      "https://alpha.example.net:9000/srv/b", "https://bravo.example.net:9000/srv/b", "https://charlie.example.net:9000/srv/b", "https://delta.example.net:9000/srv/b",
    ])
    error_message = "without numbers, every drive is listed, consecutive drives on different hosts: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.volumes == join(" ", output.server_args)
    error_message = "volumes is RUSTFS_VOLUMES: the arguments joined by spaces"
  }
}

run "zero_padded_numbers_keep_their_width" {
  command = plan

  variables {
    hosts = [for i in range(8, 12) : { name = format("rfs%02d", i), address = format("rfs%02d.lan", i), drives = [for d in range(1, 11) : format("/d%02d", d)] }]
  }

  assert {
    condition     = output.server_args == tolist(["https://rfs{08...11}.lan:9000/d{01...10}"])
    error_message = "zero padding must be kept: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.erasure[0].set_drive_count == 4 && output.erasure[0].sets == 10
    error_message = "4 hosts × 10 drives are ten sets of 4"
  }
}

run "two_pools_are_two_ellipsis_arguments" {
  command = plan

  variables {
    hosts = [for i in range(1, 9) : { name = "node${i}", address = "10.0.1.${i}", drives = ["/mnt/disk1", "/mnt/disk2"] }]
    pools = [["node1", "node2", "node3", "node4"], ["node5", "node6", "node7", "node8"]]
  }

  assert {
    condition     = output.server_args == tolist(["https://10.0.1.{1...4}:9000/mnt/disk{1...2}", "https://10.0.1.{5...8}:9000/mnt/disk{1...2}"])
    error_message = "one argument per pool: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).pools == [{ hosts = ["node1", "node2", "node3", "node4"] }, { hosts = ["node5", "node6", "node7", "node8"] }]
    error_message = "pools must be written by host name"
  }
  assert {
    condition     = length(output.erasure) == 2 && output.erasure[1].hosts == ["node5", "node6", "node7", "node8"]
    error_message = "the layout is per pool"
  }
}

run "eight_nodes_with_a_storage_class" {
  command = plan

  variables {
    hosts  = [for i in range(1, 9) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
    parity = 3
  }

  assert {
    condition     = yamldecode(output.inventory_yaml).storage_class == "EC:3"
    error_message = "parity is written as storage_class EC:N"
  }
  assert {
    condition     = output.erasure[0].set_drive_count == 8 && output.erasure[0].data == 5 && output.erasure[0].parity == 3 && output.erasure[0].write_quorum == 5
    error_message = "8 nodes: sets of 8, EC 5+3 with write quorum 5: ${jsonencode(output.erasure)}"
  }
}

run "single_node_layout" {
  command = plan

  variables {
    hosts       = [{ name = "solo", address = "192.0.2.10", drives = [for d in range(1, 5) : "/mnt/disk${d}"] }]
    single_node = true
  }

  assert {
    condition     = output.server_args == tolist(["https://192.0.2.10:9000/mnt/disk{1...4}"])
    error_message = "a single node is one URL with an ellipsis over its drives: ${jsonencode(output.server_args)}"
  }
  assert {
    condition     = output.erasure[0].set_drive_count == 4 && output.erasure[0].sets == 1
    error_message = "1 node × 4 drives: one set of 4"
  }
}

run "everything_optional_is_written" {
  command = plan

  variables {
    hosts = concat(
      [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], site = "eu-1", ssh_user = i == 1 ? "ops" : null, ssh_port = i == 1 ? 2222 : null, ssh_host_key = i == 1 ? "SHA256:${join("", [for _ in range(43) : "A"])}" : null }],
      [{ name = "lb1", address = "10.0.0.100", roles = ["load_balancer"] }],
    )
    binary          = { url = "https://downloads.example.com/rustfs", sha256 = join("", [for _ in range(64) : "a"]), version = "1.2.3" }
    set_drive_count = 4
    ports           = { s3 = 9100, console = 9101 }
    credentials     = { user_file = "/run/secrets/user", password_file = "/run/secrets/password" }
    control_plane   = { address = "https://cp.example.com:7070", token_file = "/etc/rustfs/cp.token" }
    install_dir     = "/srv/rustfs"
    config_dir      = "/srv/rustfs/etc"
  }

  assert {
    condition     = yamldecode(output.inventory_yaml).hosts[0].ssh == { user = "ops", port = 2222, host_key = "SHA256:${join("", [for _ in range(43) : "A"])}" } && !contains(keys(yamldecode(output.inventory_yaml).hosts[1]), "ssh")
    error_message = "per-host SSH overrides are written for the host that has them only"
  }
  assert {
    condition     = length(yamldecode(output.inventory_yaml).hosts) == 4
    error_message = "a load-balancer-only host is not a node of the inventory"
  }
  assert {
    condition     = output.load_balancer == { hosts = [{ name = "lb1", address = "10.0.0.100", ssh_user = "admin" }], backends = ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100", "10.0.0.4:9100"], backend_protocol = "https", health_check_path = "/rustfs/health/ready" }
    error_message = "the load balancer output lists its hosts and every node's S3 port: ${jsonencode(output.load_balancer)}"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).binary == { url = "https://downloads.example.com/rustfs", sha256 = join("", [for _ in range(64) : "a"]), version = "1.2.3" }
    error_message = "binary url, sha256 and version are written"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).set_drive_count == 4 && yamldecode(output.inventory_yaml).ports == { s3 = 9100, console = 9101 }
    error_message = "set_drive_count and ports are written"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).credentials == { user_file = "/run/secrets/user", password_file = "/run/secrets/password" }
    error_message = "credential files replace the environment references"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).control_plane == { address = "https://cp.example.com:7070", token_file = "/etc/rustfs/cp.token", site = "eu-1" }
    error_message = "the control plane gets the hosts' site"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).install_dir == "/srv/rustfs" && yamldecode(output.inventory_yaml).config_dir == "/srv/rustfs/etc"
    error_message = "install_dir and config_dir are written"
  }
  assert {
    condition     = output.server_args == tolist(["https://10.0.0.{1...4}:9100/mnt/disk1"]) && output.site == "eu-1"
    error_message = "the S3 port is in the endpoints"
  }
}

run "control_plane_installed_on_a_node" {
  command = plan

  variables {
    site          = "dc1"
    control_plane = { install = { host = "node1", binary = "./target/release/rustfs-controlplane" } }
  }

  assert {
    condition     = yamldecode(output.inventory_yaml).control_plane == { site = "dc1", install = { host = "node1", binary = "./target/release/rustfs-controlplane", port = 7070 } }
    error_message = "install is written with its default port and no token"
  }
}
