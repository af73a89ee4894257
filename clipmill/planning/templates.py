"""Keyword templates: a trending keyword or product name poured into a prompt.

The built-ins are package data (`clipmill/templates/*.yaml`); folders named by
$CLIPMILL_TEMPLATES, or loaded with `add_templates` (`--templates DIR`), add templates or
replace built-ins of the same name. Each template has a text per language and default values
for its variables; `{keyword}` is the one variable every text must have.
"""
from __future__ import annotations

import os
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping

import yaml

from clipmill.planning.language import detect_language
from clipmill.storage.user_files import UserFileError, read_user_text


@dataclass(frozen=True)
class PromptTemplate:
    """A keyword template: text and default variables per language ("en", "zh")."""

    name: str
    description: str
    text: Mapping[str, str]
    defaults: Mapping[str, Mapping[str, str]]

    def variables(self, language: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.text[language]) if name}


TEMPLATES_ENV = "CLIPMILL_TEMPLATES"


def _template_from(data: object, where: str) -> PromptTemplate:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("text"), dict):
        raise ValueError(f"{where}: a template is a mapping with 'name' and 'text' (per language: en, zh)")
    if "en" not in data["text"]:
        raise ValueError(f"{where}: template {data['name']!r} needs an 'en' text (the fallback language)")
    try:
        template = PromptTemplate(
            name=data["name"],
            description=data.get("description", ""),
            text={lang: str(text) for lang, text in data["text"].items()},
            defaults={lang: {k: str(v) for k, v in values.items()}
                      for lang, values in (data.get("defaults") or {}).items()},
        )
        for language in template.text:
            if "keyword" not in template.variables(language):
                raise ValueError(f"its {language} text has no {{keyword}}")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{where}: template {data['name']!r}: {error}") from None
    return template


def load_template_dir(folder: str | Path) -> dict[str, PromptTemplate]:
    """Every `*.yaml` template in `folder` (a channel's or brand's own), by name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder}: template folder not found")
    templates = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            data = yaml.safe_load(read_user_text(path, kind="template"))
        except UserFileError as error:  # a FIFO or a device named *.yaml in the folder: refused, never opened
            raise ValueError(f"{path}: cannot read template ({error.problem})") from None
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: cannot read template ({error})") from None
        template = _template_from(data, str(path))
        if template.name in templates:
            raise ValueError(f"{path}: template {template.name!r} is defined twice in {folder}")
        templates[template.name] = template
    return templates


def _load_templates() -> dict[str, PromptTemplate]:
    templates = {}
    for entry in sorted(resources.files("clipmill").joinpath("templates").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        template = _template_from(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
        templates[template.name] = template
    # Folders named by $CLIPMILL_TEMPLATES (os.pathsep-separated) add templates or replace built-ins.
    for folder in filter(None, os.environ.get(TEMPLATES_ENV, "").split(os.pathsep)):
        templates.update(load_template_dir(folder))
    return templates


TEMPLATES: dict[str, PromptTemplate] = _load_templates()


def add_templates(folder: str | Path) -> list[str]:
    """Load a folder's templates into `TEMPLATES` (the `--templates DIR` option); their names."""
    loaded = load_template_dir(folder)
    TEMPLATES.update(loaded)
    return sorted(loaded)


def expand_template(keyword: str, template: str, variables: dict[str, str] | None = None) -> str:
    """Fill a template (built-in or loaded, see `add_templates`) with `keyword` (and optional
    overrides of its variables).

    The template's language follows the keyword's: a Chinese keyword gets the Chinese text.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known templates: {', '.join(sorted(TEMPLATES))}")
    keyword = " ".join((keyword or "").split())
    if not keyword:
        raise ValueError("keyword is empty; give the trending keyword or product name to build the prompt around")
    chosen = TEMPLATES[template]
    language = detect_language(keyword + "".join((variables or {}).values()))
    if language not in chosen.text:
        language = "en"
    allowed = chosen.variables(language) - {"keyword"}
    unknown = set(variables or {}) - allowed
    if unknown:
        raise ValueError(
            f"template {template!r} has no variable(s) {', '.join(sorted(unknown))}; "
            f"it takes: {', '.join(sorted(allowed))}"
        )
    values = {**chosen.defaults.get(language, {}), **(variables or {}), "keyword": keyword}
    missing = allowed - set(values)
    if missing:
        raise ValueError(f"template {template!r} needs a value for: {', '.join(sorted(missing))}")
    return " ".join(chosen.text[language].format_map(values).split())
