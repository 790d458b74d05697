"""The workflow engine and the document types that run through it.

Importing the package registers every document type (``definitions``) with the engine.
"""

from operational.workflow import definitions, engine

__all__ = ["definitions", "engine"]
