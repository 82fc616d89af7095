variable "name" {
  description = "Name prefix (<app>-<env>)."
  type        = string
}

variable "parameter_names" {
  description = "Secrets whose values are set out of band: short name => full SSM name."
  type        = map(string)
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
