"""Benchmarks of the broker: synthetic data and measurements, never run in CI."""
