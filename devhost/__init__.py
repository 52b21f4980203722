"""Runs any Python v2-model Durable Functions app locally: HTTP, timers, Service Bus and a Durable engine."""
