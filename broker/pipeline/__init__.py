"""The pipeline: ingest -> de-duplicate -> link -> enrich -> policy and rules -> emit.

Each stage is a plain synchronous function over plain data. The live worker calls them
from thin faust agents; `mash-broker replay` calls the very same functions in-process.
"""
