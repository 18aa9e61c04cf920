"""mash-broker: joins up what agencies know about a child, in time.

Agency systems publish events to Kafka; the broker validates each one, links it to
the right child, enriches it with the child's picture, shares it as policy allows and
alerts the MASH. See README.md for the architecture.
"""

__version__ = "0.1.0"
