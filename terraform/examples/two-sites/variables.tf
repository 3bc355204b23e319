variable "name" {
  description = "Name prefix; each cluster is NAME-SITE."
  type        = string
  default     = "rustfs"
}

variable "sites" {
  description = "The two sites: a name (lowercase letters, digits, '-') and an AWS region each."
  type = object({
    primary   = object({ name = string, region = string })
    secondary = object({ name = string, region = string })
  })
  default = {
    primary   = { name = "eu", region = "eu-west-1" }
    secondary = { name = "us", region = "us-east-1" }
  }

  validation {
    condition     = var.sites.primary.name != var.sites.secondary.name
    error_message = "sites: the two sites need different names."
  }
}

variable "operator_cidrs" {
  description = "Your machine's public address as a /32: SSH, S3 and console on both sites."
  type        = list(string)
}

variable "allowed_s3_cidrs" {
  description = "Further client networks allowed to S3 on both sites."
  type        = list(string)
  default     = []
}

variable "control_plane_address" {
  description = "Optional control plane URL both clusters register with (its token is read from RUSTFS_CONTROLPLANE_TOKEN when rustfs-provision runs)."
  type        = string
  default     = null
}

variable "ssh_public_key_file" {
  description = "Public key installed on the nodes."
  type        = string
  default     = "~/.ssh/id_ed25519.pub"
}

variable "ssh_private_key_file" {
  description = "Its private key, used by rustfs-provision."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "rustfs_binary" {
  description = "The rustfs binary to install, relative to this directory."
  type        = string
  default     = "../../../target/release/rustfs"
}

variable "provision" {
  description = "Run rustfs-provision apply for both clusters from terraform apply."
  type        = bool
  default     = true
}

variable "rustfs_provision" {
  description = "The rustfs-provision executable."
  type        = string
  default     = "../../../target/release/rustfs-provision"
}
