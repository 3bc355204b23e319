variable "region" {
  description = "AWS region of the cluster (also its site name)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Cluster name (lowercase letters, digits, '-'): prefixes the AWS resources and names the provisioner's state directory."
  type        = string
  default     = "rustfs-demo"
}

variable "instance_type" {
  description = "EC2 instance type of the nodes."
  type        = string
  default     = "m6i.large"
}

variable "architecture" {
  description = "x86_64 or arm64; must match the rustfs binary."
  type        = string
  default     = "x86_64"
}

variable "drive_size_gib" {
  description = "Size of each node's single EBS data volume (gp3) in GiB."
  type        = number
  default     = 500
}

variable "operator_cidrs" {
  description = "Your machine's public address as a /32 (curl -s https://checkip.amazonaws.com): SSH, S3 and console."
  type        = list(string)
}

variable "allowed_s3_cidrs" {
  description = "Further client networks allowed to S3."
  type        = list(string)
  default     = []
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
  description = "The rustfs binary to install (Linux, the instances' architecture), relative to this directory."
  type        = string
  default     = "../../../target/release/rustfs"
}

variable "provision" {
  description = "Run rustfs-provision apply from terraform apply (needs RUSTFS_ROOT_USER and RUSTFS_ROOT_PASSWORD in the environment)."
  type        = bool
  default     = true
}

variable "rustfs_provision" {
  description = "The rustfs-provision executable."
  type        = string
  default     = "../../../target/release/rustfs-provision"
}
