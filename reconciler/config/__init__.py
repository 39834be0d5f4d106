"""Configuration: load *.tf and *.tf.json, evaluate the Terraform language subset, check schemas."""
