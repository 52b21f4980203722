"""The az CLI's SDK (azure-mgmt-servicelinker 1.2.0b3) as a driver, run from its side virtualenv."""
