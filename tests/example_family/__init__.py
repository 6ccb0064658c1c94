"""A small family that is not shipped: it proves a new family touches only its own files
(docs/architecture.md, "Adding a family")."""
