#!/usr/bin/env python3
"""Checks the OpenAPI document against the OpenAPI 3.1 specification and against the routes in the Swift code.

    pip install openapi-spec-validator
    python3 scripts/check-openapi.py [--spec PATH] [--sources DIR]

1. Validates `Sources/ChatAPI/Resources/openapi.json` with openapi-spec-validator.
2. Extracts every route `Sources/ChatAPI` registers and compares them with the document's operations:
   - `router.get("healthz") …` (any `router.METHOD("path"` call: routes on the root router);
   - `var NAME: RouteCollection<…> { routes.get(":id", use: …) … }` inside a top-level type, mounted in
     `App/Application+build.swift` by `X.addRoutes(TYPE(…).NAME, atPath: "…")` or `X.addRoutes(variable.NAME, atPath: "…")`
     (the variable resolved through `let variable = TYPE(`), where `X` is `router` or a group
     `let X = router.group("…")…`; a group whose chain adds `TokenAuthenticator` is authenticated.
   Path parameters `:id` become `{id}`. The web pages' routes (`WebAssets.swift`) are not API operations and are skipped. Also checks that public routes have `security: []` and authenticated ones
   require `bearerAuth` or `cookieAuth`.

Exit status 0 when both checks pass, 1 otherwise (2 when the sources cannot be read as expected).
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ROUTE_METHODS = "get|post|put|patch|delete|head|options"

# Operations documented before the Swift code registers them, reported as a warning instead of a failure.
# Remove an entry as soon as its route exists (the script says so).
DOCUMENTED_AHEAD: dict = {}


class SourceError(Exception):
    pass


def normalize(*parts):
    segments = []
    for part in parts:
        for segment in part.split("/"):
            if not segment:
                continue
            segments.append("{" + segment[1:] + "}" if segment.startswith(":") else segment)
    return "/" + "/".join(segments)


def route_collections(files):
    """{(TypeName, property): [(METHOD, relative path)]} for every `var NAME: RouteCollection<…> { … }`."""
    collections = {}
    for file in files:
        text = file.read_text(encoding="utf-8")
        types = [(m.start(), m.group(1)) for m in re.finditer(r"^(?:public |package |internal |private |fileprivate )?(?:final )?(?:struct|class|enum|actor|extension)\s+(\w+)", text, re.M)]
        for m in re.finditer(r"\bvar\s+(\w+)\s*:\s*RouteCollection<[^>]*>\s*\{", text):
            owner = [name for start, name in types if start < m.start()]
            if not owner:
                raise SourceError(f"{file}: RouteCollection `{m.group(1)}` outside a top-level type")
            end = text.find("return routes", m.end())
            if end < 0:
                raise SourceError(f"{file}: RouteCollection `{owner[-1]}.{m.group(1)}` has no `return routes`")
            routes = [
                (method.upper(), path or "")
                for method, path in re.findall(r"\broutes\.(" + ROUTE_METHODS + r')\(\s*(?:"([^"]*)")?', text[m.end():end])
            ]
            collections[(owner[-1], m.group(1))] = routes
    return collections


def implemented_routes(sources):
    """{(METHOD, path): authenticated?} for every route the router gets."""
    # The web pages (WebAssets.swift: `/`, `/admin`, `/assets/**` …) are documents for browsers, not API operations.
    files = sorted(path for path in sources.rglob("*.swift") if path.name != "WebAssets.swift")
    build = sources / "App" / "Application+build.swift"
    if not build.exists():
        raise SourceError(f"{build} is missing")
    build_text = build.read_text(encoding="utf-8")
    collections = route_collections(files)
    routes = {}

    def add(method, path, authenticated, origin):
        key = (method, path)
        if key in routes:
            raise SourceError(f"{method} {path} is registered twice ({origin})")
        routes[key] = authenticated

    # Groups: `let protected = router.group("api").add(middleware: …)…` (over several lines).
    groups = {"router": ("", False)}
    for m in re.finditer(r'let\s+(\w+)\s*=\s*(\w+)\.group\("([^"]*)"\)((?:\s*\.add\(middleware:[^\n]*)*)', build_text):
        name, parent, prefix, chain = m.groups()
        if parent not in groups:
            raise SourceError(f"group `{name}` is made from unknown router `{parent}`")
        parent_prefix, parent_auth = groups[parent]
        groups[name] = (normalize(parent_prefix, prefix), parent_auth or "TokenAuthenticator" in chain)

    # Routes on the root router (`router.get("healthz") { … }`), in any file.
    for file in files:
        for method, path in re.findall(r"\brouter\.(" + ROUTE_METHODS + r')\(\s*"([^"]*)"', file.read_text(encoding="utf-8")):
            add(method.upper(), normalize(path), False, file.name)
    # Routes added straight to a group in the build file.
    for receiver, method, path in re.findall(r"\b(\w+)\.(" + ROUTE_METHODS + r')\(\s*"([^"]*)"', build_text):
        if receiver in groups and receiver != "router":
            prefix, authenticated = groups[receiver]
            add(method.upper(), normalize(prefix, path), authenticated, build.name)

    # Route collections mounted with addRoutes.
    variables = dict(re.findall(r"let\s+(\w+)\s*=\s*([A-Z]\w*)\(", build_text))
    mounts = list(re.finditer(r'\b(\w+)\.addRoutes\(\s*(.+?)\.(\w+)\s*,\s*atPath:\s*"([^"]*)"\s*\)', build_text, re.S))
    if not mounts:
        raise SourceError("no `addRoutes(…, atPath: …)` in Application+build.swift")
    for m in mounts:
        receiver, expression, prop, mount = m.groups()
        expression = expression.strip()
        if receiver not in groups:
            raise SourceError(f"addRoutes on unknown router or group `{receiver}`")
        constructor = re.match(r"([A-Z]\w*)\(", expression)
        type_name = constructor.group(1) if constructor else variables.get(expression)
        if type_name is None:
            raise SourceError(f"cannot tell the type of `{expression}` in `{receiver}.addRoutes({expression}.{prop}, atPath: \"{mount}\")`")
        if (type_name, prop) not in collections:
            raise SourceError(f"no `var {prop}: RouteCollection` in `{type_name}` (mounted at \"{mount}\")")
        prefix, authenticated = groups[receiver]
        for method, path in collections[(type_name, prop)]:
            add(method, normalize(prefix, mount, path), authenticated, f"{type_name}.{prop}")
    return routes


def validate_document(spec_path):
    try:
        from openapi_spec_validator import validate
    except ImportError:
        try:
            from openapi_spec_validator import validate_spec as validate
        except ImportError:
            print("openapi-spec-validator is missing: pip install openapi-spec-validator", file=sys.stderr)
            return None, False
    try:
        document = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"FAIL: cannot read {spec_path}: {error}")
        return None, False
    try:
        validate(document)
    except Exception as error:  # the validator's own exception types vary between versions
        print(f"FAIL: {spec_path} is not a valid OpenAPI document:\n{error}")
        return document, False
    print(f"ok: {spec_path.relative_to(ROOT) if spec_path.is_relative_to(ROOT) else spec_path} is a valid OpenAPI {document.get('openapi')} document")
    return document, True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "Sources/ChatAPI/Resources/openapi.json")
    parser.add_argument("--sources", type=Path, default=ROOT / "Sources/ChatAPI")
    args = parser.parse_args()

    document, valid = validate_document(args.spec)
    if document is None:
        return 1

    try:
        implemented = implemented_routes(args.sources)
    except (SourceError, OSError) as error:
        print(f"FAIL: cannot extract the routes from {args.sources}: {error}")
        return 2

    documented = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                documented[(method.upper(), path)] = item[method]

    def show(keys):
        return "\n".join(f"  {method} {path}" for method, path in sorted(keys, key=lambda k: (k[1], k[0])))

    ok = valid
    missing = set(implemented) - set(documented)
    extra = set(documented) - set(implemented)
    ahead = {key for key in extra if key in DOCUMENTED_AHEAD}
    extra -= ahead
    if missing:
        ok = False
        print(f"FAIL: {len(missing)} route(s) implemented but missing from the document:\n{show(missing)}")
    if extra:
        ok = False
        print(f"FAIL: {len(extra)} operation(s) documented but not implemented:\n{show(extra)}")
    for key in sorted(ahead):
        print(f"warning: {key[0]} {key[1]} is documented but not implemented yet ({DOCUMENTED_AHEAD[key]})")
    for key in sorted(set(DOCUMENTED_AHEAD) & set(implemented)):
        print(f"note: {key[0]} {key[1]} is implemented now; remove it from DOCUMENTED_AHEAD in {Path(__file__).name}")

    wrong_security = []
    for key in sorted(set(implemented) & set(documented)):
        security = documented[key].get("security", document.get("security"))
        schemes = {name for requirement in (security or []) for name in requirement}
        if implemented[key]:
            if not security or not schemes & {"bearerAuth", "cookieAuth"}:
                wrong_security.append(f"  {key[0]} {key[1]}: needs a session token but is documented as public")
        elif schemes & {"bearerAuth", "cookieAuth"}:
            # Public routes may still name a guard of their own (metricsToken for /metrics), never a session.
            wrong_security.append(f"  {key[0]} {key[1]}: is public but documented with security {security}")
    if wrong_security:
        ok = False
        print("FAIL: security requirements disagree with the router:\n" + "\n".join(wrong_security))

    if ok:
        print(f"ok: the document's {len(documented)} operations match the {len(implemented)} routes in {args.sources.name}"
              + (f" (+{len(ahead)} documented ahead)" if ahead else ""))
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
