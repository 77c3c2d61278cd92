"""Files `crmhub init` writes, shipped as package data."""
