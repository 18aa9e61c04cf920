"""Adapters to Kafka: the local development cluster, administration, security and ACLs,
the worker's tables and sink, and the command-line producer and consumer.

Everything here may import aiokafka or faust; nothing in the domain or the pipeline
imports this package (docs/architecture.md).
"""
