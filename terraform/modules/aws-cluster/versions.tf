terraform {
  # 1.9: validation rules that refer to other variables; 1.7: mock providers in `terraform test`.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
  }
}
