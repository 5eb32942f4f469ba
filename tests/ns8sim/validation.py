"""JSON-schema validation of task inputs and outputs, the way NS8 agents do it.

NS8 agents validate with gojsonschema (v1.2.0) and turn every error into
``{"field", "parameter", "value", "error"}`` (core/agent/validation): ``field``
is the JSON path of the failing value without the ``(root).`` prefix
(``(root)`` for the document itself), ``parameter`` is ``field`` up to the first
dot, ``error`` is ``<parameter>_<gojsonschema error type>`` and ``value`` is the
failing value.  This module reproduces that with python3-jsonschema, resolving
the ``$ref``s into ``validator-definitions.json`` from the local copy only.
"""

import ipaddress
import json
import os
import re

import jsonschema

DEFINITIONS_ID = "http://schema.nethserver.org/cluster.json"

# jsonschema keyword -> gojsonschema error type
_GO_TYPES = {
    "required": "required",
    "type": "invalid_type",
    "anyOf": "number_any_of",
    "oneOf": "number_one_of",
    "allOf": "number_all_of",
    "not": "number_not",
    "enum": "enum",
    "const": "const",
    "pattern": "pattern",
    "format": "format",
    "minLength": "string_gte",
    "maxLength": "string_lte",
    "minimum": "number_gte",
    "maximum": "number_lte",
    "exclusiveMinimum": "number_gt",
    "exclusiveMaximum": "number_lt",
    "multipleOf": "multiple_of",
    "minItems": "array_min_items",
    "maxItems": "array_max_items",
    "uniqueItems": "unique",
    "contains": "contains",
    "minProperties": "array_min_properties",
    "maxProperties": "array_max_properties",
    "additionalProperties": "additional_property_not_allowed",
    "additionalItems": "array_no_additional_items",
    "dependencies": "missing_dependency",
    "propertyNames": "invalid_property_name",
    "if": "condition_then",
    "then": "condition_then",
    "else": "condition_else",
}


def default_schema_dir():
    """Where the shared NS8 schemas are: $NS8M_SHARED_DIR/ns8-api/schemas,
    else <repo>/../shared/ns8-api/schemas."""
    shared = os.environ.get("NS8M_SHARED_DIR")
    if shared:
        return os.path.join(shared, "ns8-api", "schemas")
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    return os.path.join(os.path.dirname(repo), "shared", "ns8-api", "schemas")


# gojsonschema's format checkers, which NS8 uses (not RFC-exact ones).
_RX_HOSTNAME = re.compile(
    r"^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])"
    r"(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]{0,61}[a-zA-Z0-9]))*$")

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


@FORMAT_CHECKER.checks("hostname")
def _is_hostname(value):
    if not isinstance(value, str):
        return True
    return bool(_RX_HOSTNAME.match(value)) and len(value) < 256


def _parse_ip(value):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@FORMAT_CHECKER.checks("ipv4")
def _is_ipv4(value):
    if not isinstance(value, str):
        return True
    return _parse_ip(value) is not None and "." in value


@FORMAT_CHECKER.checks("ipv6")
def _is_ipv6(value):
    if not isinstance(value, str):
        return True
    return _parse_ip(value) is not None and ":" in value


class _LocalResolver(jsonschema.RefResolver):
    def resolve_remote(self, uri):
        raise jsonschema.RefResolutionError(
            "refusing to fetch remote schema %s (only local schemas are used)" % uri)


class SchemaSet:
    """The shared schemas, by agent kind and action.

    ``schema_for("cluster", "add-node", "input")`` reads
    ``<dir>/cluster/add-node/validate-input.json``; module actions are looked
    up under the module's image name (``nethvoice``; for an image given in
    ``image_dirs``, in its own folder when the shared ones have none) and
    then under the generic ``module`` folder.
    """

    def __init__(self, schema_dir=None, image_dirs=None):
        self.dir = schema_dir or default_schema_dir()
        # an image's own schemas ({image: folder of <action>/validate-*.json})
        self.image_dirs = dict(image_dirs or {})
        defs_path = os.path.join(self.dir, "cluster", "validator-definitions.json")
        with open(defs_path) as f:
            self.definitions = json.load(f)
        self._cache = {}

    def path_for(self, kind, action, which):
        p = os.path.join(self.dir, kind, action, "validate-%s.json" % which)
        if not os.path.exists(p) and kind in self.image_dirs:
            p = os.path.join(self.image_dirs[kind], action, "validate-%s.json" % which)
        return p if os.path.exists(p) else None

    def validator(self, kind, action, which):
        key = (kind, action, which)
        if key not in self._cache:
            path = self.path_for(kind, action, which)
            if path is None:
                self._cache[key] = None
            else:
                with open(path) as f:
                    schema = json.load(f)
                jsonschema.Draft7Validator.check_schema(schema)
                store = {DEFINITIONS_ID: self.definitions}
                resolver = _LocalResolver.from_schema(schema, store=store)
                self._cache[key] = jsonschema.Draft7Validator(
                    schema, resolver=resolver, format_checker=FORMAT_CHECKER)
        return self._cache[key]

    def validate(self, kind, action, which, document, with_text=False):
        """Return None when no schema exists, else the list of NS8 errors
        (empty when the document is valid).  With with_text=True, return
        (errors, stderr text)."""
        v = self.validator(kind, action, which)
        if v is None:
            return (None, "") if with_text else None
        errs = ns8_errors(v.iter_errors(document), document)
        return (strip(errs), describe(errs)) if with_text else strip(errs)


def _field(path):
    if not path:
        return "(root)"
    return ".".join(str(p) for p in path)


def _entry(path, go_type, value, description=""):
    field = _field(path)
    parameter = field.split(".", 1)[0]
    e = {"field": field, "parameter": parameter, "value": value,
         "error": "%s_%s" % (parameter, go_type)}
    if description:
        e[_DESC] = description
    return e


_DESC = "\0description"


def describe(errors):
    """The text NS8 puts in the task's stderr for these errors."""
    return "Validation errors: [%s]\n" % ", ".join(
        "%s: %s" % (e["field"], e.get(_DESC) or e["error"]) for e in errors)


def strip(errors):
    return [{k: v for k, v in e.items() if k != _DESC} for e in errors]


_DESCENDING = ("properties", "patternProperties", "items",
               "additionalProperties", "additionalItems", "contains")


def _allof_path(e):
    """Instance path where an allOf failed, when this error comes from one."""
    rsp = list(e.relative_schema_path)[:-1]
    if "allOf" not in rsp:
        return None
    idx = len(rsp) - 1 - rsp[::-1].index("allOf")
    depth = sum(1 for k in rsp[idx + 1:] if k in _DESCENDING)
    path = list(e.absolute_path)
    return path[:len(path) - depth] if depth else path


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _flatten(errors, out, doc):
    for e in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)),
                                           list(map(str, e.relative_schema_path)))):
        kw = e.validator
        path = list(e.absolute_path)
        allof_path = _allof_path(e)
        if allof_path is not None:
            out.append(_entry(allof_path, "number_all_of", _get(doc, allof_path)))
        if kw in ("anyOf", "oneOf"):
            out.append(_entry(path, _GO_TYPES[kw], e.instance, e.message))
            # gojsonschema adds the errors of the closest sub-schema.
            groups = {}
            for sub in e.context:
                groups.setdefault(sub.relative_schema_path[0], []).append(sub)
            if groups:
                # gojsonschema keeps the sub-schema that matched best (highest
                # score); the deepest failure is the closest stand-in for that.
                best = min(groups.values(), key=lambda g: (
                    -max(len(x.absolute_path) for x in g), len(g)))
                _flatten(best, out, doc)
            continue
        out.append(_entry(path, _GO_TYPES.get(kw, kw), e.instance, e.message))


def ns8_errors(errors, document):
    out = []
    _flatten(list(errors), out, document)
    # de-duplicate while keeping order
    # an allOf reached through several failing branches is reported once
    seen, result = set(), []
    for item in out:
        k = json.dumps(item, sort_keys=True)
        if item["error"].endswith("_number_all_of") and k in seen:
            continue
        seen.add(k)
        result.append(item)
    return result
