"""Packages for setuptools (the rest of the metadata is in pyproject.toml).

The project's required top-level folders install under one name: flows/ as `clipmill.flows`,
qa/ as `clipmill.qa`, and so on, so nothing generic (`models`, `tasks`, ...) lands in
site-packages. The folder clipmill/ holds the domain (spec, planning, media, publishing, ...);
cli/ the command line above it.
"""
from setuptools import find_namespace_packages, setup

FOLDERS = {
    "clipmill": "clipmill",
    "clipmill.cli": "cli",
    "clipmill.flows": "flows",
    "clipmill.tasks": "tasks",
    "clipmill.models": "models",
    "clipmill.qa": "qa",
    "clipmill.storage": "storage",
}

# Namespace discovery: data folders (migrations, templates, class maps) count as packages too, so
# setuptools ships their package-data without a warning.
packages = []
for name, folder in FOLDERS.items():
    packages += [name] + [f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"])]

setup(packages=packages, package_dir=FOLDERS)
