"""Validates one JSON document (read from stdin) against a JSON Schema file (draft 2020-12)
with the `jsonschema` package: an independent check of the tool's --json outputs against
the schemas in docs/schemas/.

    python validate_schema.py docs/schemas/keygen.schema.json < output.json

Checks the schema itself first (Draft202012Validator.check_schema). Prints every error
(its JSON path and message) and exits 1 when the document does not validate, 0 when it
does, 2 when the schema or the document cannot be read."""
import json
import sys
from importlib.metadata import version

import jsonschema
from jsonschema import Draft202012Validator


def main():
    if len(sys.argv) != 2:
        print("usage: validate_schema.py SCHEMA_FILE < DOCUMENT", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        document = json.load(sys.stdin)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print(f"cannot read: {e}", file=sys.stderr)
        return 2
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors:
        print(f"{e.json_path}: {e.message}")
    if errors:
        return 1
    print(f"valid against {schema.get('$id', sys.argv[1])} (jsonschema {version('jsonschema')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
