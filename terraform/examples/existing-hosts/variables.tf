variable "name" {
  description = "Cluster name."
  type        = string
  default     = "rustfs-onprem"
}

variable "site" {
  description = "Site of the cluster."
  type        = string
  default     = "dc1"
}

variable "addresses" {
  description = "The hosts' addresses (SSH and clients), one node each, in order."
  type        = list(string)
  default     = ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"]
}

variable "cluster_addresses" {
  description = "Optional addresses on a dedicated cluster network, one per host (empty: none)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.cluster_addresses) == 0 || length(var.cluster_addresses) == length(var.addresses)
    error_message = "cluster_addresses: give one per address, or none."
  }
}

variable "drives_per_host" {
  description = "Drives per host, mounted at /mnt/disk1..N."
  type        = number
  default     = 4
}

variable "parity" {
  description = "Parity per erasure set (EC:N); null: half the set."
  type        = number
  default     = null
}

variable "ssh_user" {
  description = "SSH user (root, or a user with passwordless sudo)."
  type        = string
  default     = "root"
}

variable "ssh_private_key_file" {
  description = "SSH private key of the machine running rustfs-provision."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "rustfs_binary" {
  description = "The rustfs binary, relative to the inventory file."
  type        = string
  default     = "./rustfs"
}

variable "control_plane_address" {
  description = "Optional control plane URL (token from RUSTFS_CONTROLPLANE_TOKEN)."
  type        = string
  default     = null
}
