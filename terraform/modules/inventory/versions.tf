terraform {
  # 1.9: validation rules that refer to other variables and locals; 1.7: mock providers in tests.
  required_version = ">= 1.9.0"
}
