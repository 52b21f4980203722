"""Local stand-ins for Azure Resource Manager, Kubernetes and Service Bus."""
