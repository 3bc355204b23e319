# Every rule of the inventory module rejects bad input at plan time. Each run starts from the
# valid 4 × 4 layout below and breaks exactly one thing, so the failure it expects can only come
# from the rule it names (another failing rule would fail the run). The messages themselves are
# checked by tests/tests/terraform.rs, which reads what `terraform plan` prints.

variables {
  cluster_name = "prod"
  hosts = [
    for i in range(1, 5) : {
      name    = "node${i}"
      address = "10.0.0.${10 + i}"
      drives  = [for d in range(1, 5) : "/mnt/disk${d}"]
    }
  ]
  binary = { path = "./rustfs" }
  ssh    = { key = "~/.ssh/id_ed25519" }
}

run "valid_baseline" {
  command = plan
  assert {
    condition     = length(output.server_args) == 1
    error_message = "the baseline must be valid, or every run below proves nothing"
  }
}

run "three_nodes_with_ec_2_2" {
  command = plan
  variables {
    hosts  = [for i in range(1, 4) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3", "/mnt/disk4"] }]
    parity = 2
  }
  expect_failures = [var.hosts]
}

run "three_nodes_in_a_pool" {
  command = plan
  variables {
    hosts = [for i in range(1, 8) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
    pools = [["node1", "node2", "node3", "node4"], ["node5", "node6", "node7"]]
  }
  expect_failures = [var.hosts]
}

run "unequal_drive_counts" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = i == 3 ? ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3"] : ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3", "/mnt/disk4"] }]
  }
  expect_failures = [var.hosts]
}

run "unequal_drive_counts_across_pools_are_fine" {
  command = plan
  variables {
    hosts = [for i in range(1, 9) : { name = "node${i}", address = "10.0.0.${i}", drives = i <= 4 ? ["/mnt/disk1"] : ["/mnt/disk1", "/mnt/disk2"] }]
    pools = [["node1", "node2", "node3", "node4"], ["node5", "node6", "node7", "node8"]]
  }
  assert {
    condition     = output.erasure[0].drives_per_host == 1 && output.erasure[1].drives_per_host == 2
    error_message = "each pool has its own drive count"
  }
}

run "duplicate_addresses" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = i == 4 ? "10.0.0.11" : "10.0.0.${10 + i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "duplicate_addresses_differ_in_case_only" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = i == 4 ? "NODE1.example.net" : "node${i}.example.net", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "duplicate_cluster_addresses" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", cluster_address = i == 2 ? "192.168.0.1" : "192.168.0.${i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "duplicate_names" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = i == 2 ? "node1" : "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "bad_host_name" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "Node_${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "bad_address" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = i == 1 ? "10.0.0.0/24" : "10.0.0.${i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "relative_drive_path" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["mnt/disk1"] }]
  }
  expect_failures = [var.hosts]
}

run "drive_path_escaping_with_dotdot" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/../etc"] }]
  }
  expect_failures = [var.hosts]
}

run "drive_listed_twice" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1", "/mnt/disk1/"] }]
  }
  expect_failures = [var.hosts]
}

run "node_without_drives" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = [] }]
  }
  expect_failures = [var.hosts]
}

run "load_balancer_with_drives" {
  command = plan
  variables {
    hosts = concat(
      [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], roles = null }],
      [{ name = "lb", address = "10.0.0.99", drives = ["/mnt/disk1"], roles = ["load_balancer"] }],
    )
  }
  expect_failures = [var.hosts]
}

run "only_load_balancers" {
  command = plan
  variables {
    hosts = [{ name = "lb", address = "10.0.0.99", roles = ["load_balancer"] }]
  }
  expect_failures = [var.hosts]
}

run "unknown_role" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], roles = ["node", "gateway"] }]
  }
  expect_failures = [var.hosts]
}

run "ssh_port_out_of_range" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], ssh_port = 70000 }]
  }
  expect_failures = [var.hosts]
}

run "host_key_not_a_fingerprint" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], ssh_host_key = "ssh-ed25519 AAAAC3Nza" }]
  }
  expect_failures = [var.hosts]
}

run "hosts_in_two_sites" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], site = i <= 2 ? "eu-1" : "us-1" }]
  }
  expect_failures = [var.hosts]
}

run "host_site_differs_from_cluster_site" {
  command = plan
  variables {
    site  = "eu-1"
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], site = "us-1" }]
  }
  expect_failures = [var.hosts]
}

run "bad_host_site" {
  command = plan
  variables {
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], site = "EU 1" }]
  }
  expect_failures = [var.hosts]
}

run "single_node_with_two_hosts" {
  command = plan
  variables {
    single_node = true
    hosts       = [for i in range(1, 3) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1", "/mnt/disk2"] }]
  }
  expect_failures = [var.hosts]
}

run "one_host_without_single_node" {
  command = plan
  variables {
    hosts = [{ name = "solo", address = "10.0.0.1", drives = ["/mnt/disk1", "/mnt/disk2", "/mnt/disk3", "/mnt/disk4"] }]
  }
  expect_failures = [var.hosts]
}

run "single_node_with_one_drive_cannot_form_a_set" {
  command = plan
  variables {
    single_node = true
    hosts       = [{ name = "solo", address = "10.0.0.1", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [output.erasure]
}

run "seventeen_hosts_with_one_drive_cannot_form_sets" {
  command = plan
  variables {
    hosts = [for i in range(1, 18) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
  }
  expect_failures = [output.erasure]
}

run "parity_above_half_the_set" {
  command = plan
  variables {
    parity = 3
  }
  expect_failures = [var.parity]
}

run "parity_not_whole" {
  command = plan
  variables {
    parity = 1.5
  }
  expect_failures = [var.parity]
}

run "set_drive_count_out_of_range" {
  command = plan
  variables {
    set_drive_count = 32
  }
  expect_failures = [var.set_drive_count]
}

run "set_drive_count_that_does_not_split_the_pool" {
  command = plan
  variables {
    set_drive_count = 3
  }
  expect_failures = [var.set_drive_count]
}

run "set_drive_count_larger_than_the_nodes" {
  command = plan
  variables {
    set_drive_count = 8
  }
  expect_failures = [var.set_drive_count]
}

run "empty_pool" {
  command = plan
  variables {
    pools = [["node1", "node2", "node3", "node4"], []]
  }
  expect_failures = [var.pools]
}

run "host_in_two_pools" {
  command = plan
  variables {
    pools = [["node1", "node2", "node3", "node4"], ["node4"]]
  }
  expect_failures = [var.pools]
}

run "host_twice_in_one_pool" {
  command = plan
  variables {
    pools = [["node1", "node2", "node3", "node4", "node4"]]
  }
  expect_failures = [var.pools]
}

run "pool_names_an_unknown_host" {
  command = plan
  variables {
    pools = [["node1", "node2", "node3", "node4", "node9"]]
  }
  expect_failures = [output.inventory_yaml]
}

run "host_in_no_pool" {
  command = plan
  variables {
    hosts = [for i in range(1, 6) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"] }]
    pools = [["node1", "node2", "node3", "node4"]]
  }
  expect_failures = [output.inventory_yaml]
}

run "several_pools_need_numbered_hosts" {
  command = plan
  variables {
    hosts = [for n in ["a", "b", "c", "d", "e", "f", "g", "h"] : { name = n, address = "${n}.example.net", drives = ["/mnt/disk1"] }]
    pools = [["a", "b", "c", "d"], ["e", "f", "g", "h"]]
  }
  expect_failures = [output.server_args]
}

run "several_pools_need_the_same_drive_paths_on_each_host" {
  command = plan
  variables {
    hosts = [for i in range(1, 9) : { name = "node${i}", address = "10.0.0.${i}", drives = [i == 2 ? "/srv/disk1" : "/mnt/disk1"] }]
    pools = [["node1", "node2", "node3", "node4"], ["node5", "node6", "node7", "node8"]]
  }
  expect_failures = [output.server_args]
}

run "same_s3_and_console_port" {
  command = plan
  variables {
    ports = { s3 = 9000, console = 9000 }
  }
  expect_failures = [var.ports]
}

run "port_out_of_range" {
  command = plan
  variables {
    ports = { s3 = 0 }
  }
  expect_failures = [var.ports]
}

run "binary_path_and_url" {
  command = plan
  variables {
    binary = { path = "./rustfs", url = "https://example.com/rustfs", sha256 = join("", [for _ in range(64) : "0"]) }
  }
  expect_failures = [var.binary]
}

run "binary_url_without_sha256" {
  command = plan
  variables {
    binary = { url = "https://example.com/rustfs" }
  }
  expect_failures = [var.binary]
}

run "binary_bad_sha256" {
  command = plan
  variables {
    binary = { path = "./rustfs", sha256 = "abc" }
  }
  expect_failures = [var.binary]
}

run "binary_bad_version" {
  command = plan
  variables {
    binary = { path = "./rustfs", version = "1.0 beta" }
  }
  expect_failures = [var.binary]
}

run "no_ssh_key_anywhere" {
  command = plan
  variables {
    ssh = { user = "admin" }
  }
  expect_failures = [var.ssh]
}

run "ssh_keys_per_host_are_enough" {
  command = plan
  variables {
    ssh   = {}
    hosts = [for i in range(1, 5) : { name = "node${i}", address = "10.0.0.${i}", drives = ["/mnt/disk1"], ssh_key = "~/.ssh/node${i}" }]
  }
  assert {
    condition     = yamldecode(output.inventory_yaml).hosts[3].ssh == { key = "~/.ssh/node4" }
    error_message = "per-host keys are written per host"
  }
}

run "ssh_port_default_out_of_range" {
  command = plan
  variables {
    ssh = { key = "~/.ssh/id_ed25519", port = 0 }
  }
  expect_failures = [var.ssh]
}

run "credentials_value_and_file" {
  command = plan
  variables {
    credentials = { password = "$${PW}", password_file = "/run/pw" }
  }
  expect_failures = [var.credentials]
}

run "bad_cluster_name" {
  command = plan
  variables {
    cluster_name = "Prod Cluster"
  }
  expect_failures = [var.cluster_name]
}

run "bad_site" {
  command = plan
  variables {
    site = "-eu"
  }
  expect_failures = [var.site]
}

run "control_plane_without_token" {
  command = plan
  variables {
    control_plane = { address = "https://cp.example.com:7070" }
  }
  expect_failures = [var.control_plane]
}

run "control_plane_not_a_url" {
  command = plan
  variables {
    control_plane = { address = "cp.example.com:7070", token = "$${TOKEN}" }
  }
  expect_failures = [var.control_plane]
}

run "control_plane_installed_on_an_unknown_host" {
  command = plan
  variables {
    control_plane = { install = { host = "node9", binary = "./rustfs-controlplane" } }
  }
  expect_failures = [var.control_plane]
}

run "control_plane_install_with_a_token" {
  command = plan
  variables {
    control_plane = { token = "$${TOKEN}", install = { host = "node1", binary = "./rustfs-controlplane" } }
  }
  expect_failures = [var.control_plane]
}

run "relative_install_dir" {
  command = plan
  variables {
    install_dir = "opt/rustfs"
  }
  expect_failures = [var.install_dir]
}

run "root_config_dir" {
  command = plan
  variables {
    config_dir = "/"
  }
  expect_failures = [var.config_dir]
}
