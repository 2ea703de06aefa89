"""A form for every payload model, generated from its JSON schema, and the form's fields read back into the JSON
the API takes. The console never checks a value itself: whatever it sends, the API validates (422) and the
workflow decides (409); the form only shapes the input.

Field names are paths into the payload: `patient.name`, `terms.0.amount`. A list of objects gets a few rows (its
minimum, at least one, plus spare rows up to its maximum); an all-empty row is left out. A list of short texts is
a textarea, one per line; a list of choices is a set of checkboxes. Times are typed as local times and sent in
Asia/Shanghai (+08:00).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

SPARE_ROWS = 2  # empty rows offered after the required ones in a list of objects
MAX_ROWS = 6
LONG_TEXT = 400  # a string allowed more characters than this is a textarea
SHANGHAI_OFFSET = "+08:00"
_BOOL_MARK = "__bool__"  # a hidden field naming each checkbox, so that an unticked one reads as false
_INDEX = re.compile(r"^\d+$")


@dataclass
class FormField:
    """One input of a form, or a group of them (an object, a list of objects)."""

    name: str  # the path: patient.name, terms.0.amount
    key: str  # the last segment: name, amount
    kind: str  # text, textarea, number, decimal, date, datetime, checkbox, select, choices, counts, lines, group, rows
    required: bool = False
    options: list[Any] = field(default_factory=list)  # select / choices: the values
    children: list[FormField] = field(default_factory=list)  # group: its fields; rows: one group per row
    description: str = ""
    pattern: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    value: Any = None  # what the form shows (a value sent before, or the default)
    labels: dict[str, str] = field(default_factory=dict)  # select: an option's words, where the catalogue has none
    form: str = ""  # the form's name: ids stay unique on a page of several forms

    @property
    def id(self) -> str:
        return f"f-{self.form}-" + self.name.replace(".", "-") if self.form else "f-" + self.name.replace(".", "-")


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        resolved = dict(defs[schema["$ref"].rsplit("/", 1)[-1]])
        resolved.update({k: v for k, v in schema.items() if k != "$ref"})
        return resolved
    return dict(schema)


def _without_null(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema of a value that may be null, and whether it may be: anyOf [X, null] → (X, True)."""
    options = schema.get("anyOf")
    if not options:
        return _resolve(schema, defs), False
    kept = [_resolve(option, defs) for option in options if option.get("type") != "null"]
    nullable = len(kept) < len(options)
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(kept) == 1:
        return {**kept[0], **outer}, nullable
    if all(option.get("type") in ("number", "string") for option in kept) and any(
            option.get("type") == "number" for option in kept):
        return {"type": "decimal", **outer}, nullable  # a Decimal: a number or a numeric string
    # several shapes (a bare name or a name with its capacity): the simplest one, a text
    return {**next((o for o in kept if o.get("type") == "string"), kept[0]), **outer}, nullable


def fields_of(model: type[BaseModel], values: Mapping[str, Any] | None = None,
              skip: frozenset[str] = frozenset(), form: str = "", counted: frozenset[str] = frozenset()
              ) -> list[FormField]:
    """The form of a payload model, showing `values` (a payload sent before) where given; `form` names it.
    `counted`: lists of choices that may repeat a choice, asked as how many of each (several experts of one
    specialty)."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    fields = _object_fields(schema, defs, prefix="", values=values or {}, skip=skip)
    for f in fields:
        if f.key in counted and f.kind == "choices":
            f.kind = "counts"
    if form:
        _name_form(fields, form)
    return fields


def _name_form(fields: list[FormField], form: str) -> None:
    for f in fields:
        f.form = form
        _name_form(f.children, form)


def _object_fields(schema: Mapping[str, Any], defs: Mapping[str, Any], *, prefix: str, values: Mapping[str, Any],
                   skip: frozenset[str] = frozenset()) -> list[FormField]:
    schema = _resolve(schema, defs)
    required = set(schema.get("required", ()))
    found = []
    for key, prop in schema.get("properties", {}).items():
        if key in skip:
            continue
        found.append(_field(key, prop, defs, prefix=prefix, required=key in required, value=values.get(key)))
    return found


def _field(key: str, prop: Mapping[str, Any], defs: Mapping[str, Any], *, prefix: str, required: bool,
           value: Any) -> FormField:
    name = f"{prefix}{key}"
    schema, nullable = _without_null(prop, defs)
    required = required and not nullable
    base = {"name": name, "key": key, "required": required, "description": schema.get("description", "")}
    if value is None and "default" in schema and schema["default"] is not None:
        value = schema["default"]
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return FormField(kind="select", options=list(schema.get("enum", [schema.get("const")])), value=value, **base)
    if kind == "object" and "properties" in schema:
        children = _object_fields(schema, defs, prefix=f"{name}.", values=value if isinstance(value, Mapping) else {})
        if not required:  # an optional part is left out whole when nothing of it is filled in
            _optional(children)
        return FormField(kind="group", children=children, **base)
    if kind == "array":
        items, _ = _without_null(schema.get("items", {}), defs)
        shown = list(value) if isinstance(value, list) else []
        if "enum" in items:
            return FormField(kind="choices", options=list(items["enum"]), value=shown, **base)
        low, high = items.get("minimum"), items.get("maximum")
        if items.get("type") == "integer" and low is not None and high is not None and high - low <= 20:
            return FormField(kind="choices", options=list(range(int(low), int(high) + 1)), value=shown, **base)
        if items.get("type") == "object" and "properties" in items:
            most = min(schema.get("maxItems", MAX_ROWS), MAX_ROWS)
            count = min(max(len(shown), schema.get("minItems", 0), 1) + SPARE_ROWS, most)
            rows = [FormField(name=f"{name}.{i}", key=str(i), kind="group", children=_object_fields(
                items, defs, prefix=f"{name}.{i}.", values=shown[i] if i < len(shown) else {}))
                for i in range(count)]
            for i, row in enumerate(rows):
                _optional(row.children)  # a spare row is left empty: no default chosen in it
                if i >= len(shown):
                    _clear(row.children)
            return FormField(kind="rows", children=rows, **base)
        lines = [str(v.get("name", v)) if isinstance(v, Mapping) else str(v) for v in shown]
        return FormField(kind="lines", value="\n".join(lines), max_length=items.get("maxLength"), **base)
    if kind == "boolean":
        return FormField(kind="checkbox", value=bool(value), **base)
    if kind == "integer":
        return FormField(kind="number", value=value, minimum=schema.get("minimum"), maximum=schema.get("maximum"),
                         **base)
    if kind in ("number", "decimal"):
        return FormField(kind="decimal", value=value, **base)
    fmt = schema.get("format")
    if fmt == "date":
        return FormField(kind="date", value=value, **base)
    if fmt == "date-time":
        shown_time = str(value)[:16] if value else None  # 2026-11-25T09:30 for <input type=datetime-local>
        return FormField(kind="datetime", value=shown_time, **base)
    max_length = schema.get("maxLength")
    text_kind = "textarea" if (max_length is None or max_length > LONG_TEXT) else "text"
    return FormField(kind=text_kind, value=value, pattern=schema.get("pattern"), max_length=max_length, **base)


def _optional(fields: list[FormField]) -> None:
    """Fields of a part that may be left out: none is required on the page (a choice can be left blank); the API
    still says what the part needs once any of it is filled in."""
    for f in fields:
        f.required = False
        _optional(f.children)


def _clear(fields: list[FormField]) -> None:
    for f in fields:
        f.value = [] if f.kind == "choices" else None
        _clear(f.children)


def _meaningful(part: Mapping[str, Any]) -> bool:
    return any(value not in (None, False, "", [], {}) for value in part.values())


# ---------------------------------------------------------------- reading a form back ------------------
def payload_of(model: type[BaseModel], form: Mapping[str, Any] | Callable[[str], list[str]],
               counted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The JSON payload a submitted form stands for: only what was filled in (the API supplies its defaults)."""
    getlist = form if callable(form) else (lambda key: [form[key]] if key in form else [])
    return _read(fields_of(model, counted=counted), getlist)


def _read(fields: list[FormField], getlist: Callable[[str], list[str]]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for f in fields:
        value = _value(f, getlist)
        if value is not None:
            payload[f.key] = value
    return payload


def _value(f: FormField, getlist: Callable[[str], list[str]]) -> Any:
    if f.kind == "group":
        inner = _read(f.children, getlist)
        return inner if inner and (f.required or _meaningful(inner)) else None
    if f.kind == "rows":
        rows = [row for row in (_read(child.children, getlist) for child in f.children) if _meaningful(row)]
        return rows or None
    if f.kind == "choices":
        chosen = [v for v in getlist(f.name) if v != ""]
        return [_typed(option, chosen_value) for chosen_value in chosen
                for option in f.options if str(option) == chosen_value] or None
    if f.kind == "counts":  # how many of each option: the option repeated (several experts of one specialty)
        counted: list[Any] = []
        for option in f.options:
            text = next(iter(getlist(f"{f.name}.{option}")), "").strip()
            if re.fullmatch(r"\d{1,2}", text):
                counted += [option] * int(text)
            elif text:
                return text  # anything else: the API says why (422)
        return counted or None
    if f.kind == "checkbox":
        if not getlist(f"{_BOOL_MARK}.{f.name}") and not getlist(f.name):
            return None  # not on this form
        return bool(getlist(f.name))
    raw = next(iter(getlist(f.name)), "")
    text = raw.strip() if isinstance(raw, str) else raw
    if text == "" or text is None:
        return None
    if f.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()] or None
    if f.kind == "select":
        return next((_typed(option, text) for option in f.options if str(option) == text), text)
    if f.kind == "number":
        return int(text) if re.fullmatch(r"-?\d+", text) else text  # anything else: the API says why (422)
    if f.kind == "datetime":
        return text if re.search(r"([+-]\d{2}:\d{2}|Z)$", text) else f"{text}{':00' if len(text) == 16 else ''}" \
            f"{SHANGHAI_OFFSET}"
    return text


def _typed(option: Any, _text: str) -> Any:
    return option


def bool_mark(name: str) -> str:
    return f"{_BOOL_MARK}.{name}"


def field_errors(body: Mapping[str, Any], words: Callable[[Mapping[str, Any]], str] | None = None) -> dict[str, str]:
    """A 422's field errors keyed by the form's field names: body.patient.name → patient.name; `words` says each
    in the page's language (i18n.field_message), the API's message otherwise."""
    found: dict[str, str] = {}
    for error in body.get("errors", []) or []:
        found[".".join(field_parts(str(error.get("field", ""))))] = \
            words(error) if words else str(error.get("message", ""))
    return found


def field_parts(path: str) -> list[str]:
    """A refused field's path as the API names it (body.patient_representatives[0].name), part by part."""
    return [p for p in re.split(r"[.\[\]]+", path) if p and p != "body"]


def is_index(segment: str) -> bool:
    return bool(_INDEX.match(segment))
