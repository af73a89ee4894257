"""Model adapters: Wan2.2 generators (`models.wan`), the CLIP scorer (`models.clip`) and the YOLO
detector (`models.detector`). Each loads once per process (`models.cache`), from a local path or
a hub id, and knows nothing about Prefect."""
