"""Prefect flows: the DAG. They compose tasks and own no domain logic."""
import clipmill.prefect_env  # noqa: F401  (Prefect reads its settings when first imported)
