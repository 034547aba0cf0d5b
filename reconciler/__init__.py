"""wabactl: a Terraform-style declarative reconciler for WhatsApp Business Accounts."""

__version__ = "0.1.0"
