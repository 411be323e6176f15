"""Checks the Helm chart with Helm's own engine (helm-python-sdk) and Kubernetes' schemas.

For each configuration (default values; watchNamespaces; every option on) it lints the chart
strictly, renders it, and validates every rendered object against the Kubernetes OpenAPI schemas of
the oldest and newest versions the README claims (strict: unknown fields fail). The rendered default
and watchNamespaces configurations are the plain manifests in deploy/, which the Rust tests and the
e2e suite read, and the every-option render is tests/chart/all-on.yaml, which the e2e suite
dry-run applies: they must equal a fresh render (`--write` regenerates them). Also checks that a typo
in the values fails schema validation.

Usage: python .ci/chart.py [--write]
"""

import sys
from pathlib import Path

import kubernetes_validate
import yaml
from helm_python import chart as helm

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "dialpad-teams-operator"
RELEASE = "dialpad-teams-operator"
NAMESPACE = "dialpad-teams-operator"
# The Kubernetes versions the README claims (the chart's kubeVersion is >=1.28).
KUBERNETES_VERSIONS = ["1.28.0", "1.36.0"]
# Kinds whose schemas come from CRDs Kubernetes does not ship (the Prometheus Operator's).
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}

CONFIGURATIONS = {
    "default": ({}, ROOT / "deploy" / "dialpad-teams-operator.yaml", "default values"),
    "namespaced": (
        {"watchNamespaces": ["telephony-a", "telephony-b"]},
        ROOT / "deploy" / "dialpad-teams-operator-namespaced.yaml",
        "watchNamespaces: [telephony-a, telephony-b]",
    ),
    "all-on": (
        yaml.safe_load((CHART / "ci" / "all-on-values.yaml").read_text()),
        ROOT / "tests" / "chart" / "all-on.yaml",
        "ci/all-on-values.yaml",
    ),
}

HEADER = """# Plain manifests rendered from charts/dialpad-teams-operator ({name}: {values}) by
# `python .ci/chart.py --write`; CI fails when they differ from a fresh render. Apply the CRD first:
#   kubectl apply -f crds/ && kubectl apply -f {path}
"""


def fail(message: str) -> None:
    print(f"chart: {message}", file=sys.stderr)
    sys.exit(1)


def lint(name: str, values: dict) -> None:
    report = helm.lint(CHART, values or None, strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2] + [
        {"severity": 3, "path": "", "error": e} for e in report["errors"]
    ]
    for message in report["messages"]:
        print(f"  lint {name}: [{message['severity']}] {message['path']}: {message['error']}")
    if problems:
        fail(f"helm lint ({name}) found {len(problems)} problem(s)")


def render(chart, values: dict) -> list:
    manifests = chart.render(values or None, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(manifests[template]):
            if document:
                objects.append(document)
    return objects


def validate(name: str, objects: list) -> int:
    checked = 0
    for obj in objects:
        kind = (obj.get("apiVersion"), obj.get("kind"))
        label = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if kind in CRD_KINDS:
            print(f"  {name}: {label}: a Prometheus Operator CRD kind, not in Kubernetes' schemas")
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                fail(f"{name}: {label} is invalid for Kubernetes {version}: {error.message} at {list(error.path)}")
            except kubernetes_validate.SchemaNotFoundError as error:
                fail(f"{name}: {label}: no schema for Kubernetes {version}: {error}")
            checked += 1
    return checked


def main() -> None:
    write = "--write" in sys.argv[1:]
    chart = helm.Chart.load(CHART)
    try:
        chart.validate_schema({"replicaCont": 2})
    except Exception as error:  # the SDK raises HelmValuesError; any refusal will do
        print(f"  schema: a misspelt value is refused ({type(error).__name__})")
    else:
        fail("values.schema.json accepted a misspelt key (replicaCont)")
    for name, (values, target, described) in CONFIGURATIONS.items():
        lint(name, values)
        objects = render(chart, values)
        checked = validate(name, objects)
        print(f"{name}: {len(objects)} objects rendered, {checked} validations passed")
        path = target.relative_to(ROOT)
        header = HEADER.format(name=name, values=described, path=path)
        text = header + "".join("---\n" + yaml.safe_dump(o, sort_keys=False) for o in objects)
        if write:
            target.write_text(text)
            print(f"  wrote {path}")
        elif not target.exists() or target.read_text() != text:
            fail(f"{path} differs from the chart's render; run `python .ci/chart.py --write` and commit it")
    print("chart: ok")


if __name__ == "__main__":
    main()
