"""Checks the Helm chart with Helm's own engine (helm-python-sdk) and Kubernetes' schemas.

For each configuration (default values; watchNamespaces; every option on; OpenShift's restricted-v2)
it lints the chart strictly, renders it, validates every rendered object against the Kubernetes
OpenAPI schemas of the oldest and newest versions the README claims (strict: unknown fields fail),
and checks what the configuration is for (the CRD and its keep annotation, the security context, the
environment, volumes, spread constraints and egress rules the values ask for). The rendered default
and watchNamespaces configurations, without the CRD (crds.install: false; plain manifests apply
crds/), are the plain manifests in deploy/, which the Rust tests and the e2e suite read, and the
every-option render is tests/chart/all-on.yaml, which the e2e suite dry-run applies and tests/crd.rs
compares with the generated CRD: they must equal a fresh render (`--write` regenerates them). Also
checks that a typo in the values fails schema validation.

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

# The plain manifests leave the CRD to crds/: a plain `kubectl delete -f` of them must not delete
# the CRD, and with it every TeamsTenantSync (Helm keeps it through helm.sh/resource-policy: keep).
PLAIN = {"crds": {"install": False}}

# name: (values, the committed render or None, how the header describes the values)
CONFIGURATIONS = {
    "default": (PLAIN, ROOT / "deploy" / "dialpad-teams-operator.yaml", "default values, crds.install: false"),
    "namespaced": (
        {**PLAIN, "watchNamespaces": ["telephony-a", "telephony-b"]},
        ROOT / "deploy" / "dialpad-teams-operator-namespaced.yaml",
        "watchNamespaces: [telephony-a, telephony-b], crds.install: false",
    ),
    "all-on": (
        yaml.safe_load((CHART / "ci" / "all-on-values.yaml").read_text()),
        ROOT / "tests" / "chart" / "all-on.yaml",
        "ci/all-on-values.yaml",
    ),
    # What `helm install` with no values renders, and the OpenShift option: checked, not committed.
    "installed": ({}, None, "default values"),
    "openshift": (yaml.safe_load((CHART / "ci" / "openshift-values.yaml").read_text()), None, "ci/openshift-values.yaml"),
}

CRD_NAME = "teamstenantsyncs.teamssync.io"
KEEP = "helm.sh/resource-policy"


def find(objects: list, kind: str) -> list:
    return [o for o in objects if o.get("kind") == kind]


def expectations(values: dict, objects: list) -> list:
    """What the render of `values` must show; each entry is (description, holds)."""
    crds = [o for o in find(objects, "CustomResourceDefinition") if o["metadata"]["name"] == CRD_NAME]
    crds_values = {"install": True, "keep": True, **values.get("crds", {})}
    (deployment,) = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    checks = [("the CRD is rendered exactly when crds.install is on", len(crds) == (1 if crds_values["install"] else 0))]
    if crds:
        annotations = crds[0]["metadata"].get("annotations", {})
        checks.append((f"{KEEP}: keep exactly when crds.keep is on", (annotations.get(KEEP) == "keep") == crds_values["keep"]))
    security = pod.get("securityContext", {})
    user_removed = "runAsUser" in values.get("podSecurityContext", {})
    checks.append(("the pod keeps runAsNonRoot", security.get("runAsNonRoot") is True))
    checks.append(("runAsUser is 65532 unless removed", security.get("runAsUser") == (None if user_removed else 65532)))
    checks.append(("the container drops every capability", container["securityContext"]["capabilities"]["drop"] == ["ALL"]))
    log_level = values.get("logLevel", "info,kube=warn")
    checks.append(("RUST_LOG is logLevel, absent when empty", env.get("RUST_LOG") == (log_level or None)))
    for extra in values.get("extraEnv", []):
        checks.append((f"extraEnv {extra['name']} is set", env.get(extra["name"]) == extra.get("value")))
    volumes = {v["name"] for v in pod.get("volumes", [])}
    mounts = {m["name"] for m in container.get("volumeMounts", [])}
    for volume in values.get("extraVolumes", []):
        checks.append((f"extraVolumes {volume['name']} is in the pod", volume["name"] in volumes))
    for mount in values.get("extraVolumeMounts", []):
        checks.append((f"extraVolumeMounts {mount['name']} is mounted", mount["name"] in mounts))
    selector = deployment["spec"]["selector"]["matchLabels"]
    for given, rendered in zip(values.get("topologySpreadConstraints", []), pod.get("topologySpreadConstraints", [])):
        wanted = given.get("labelSelector", {"matchLabels": selector})
        checks.append((f"the spread over {given['topologyKey']} selects {wanted}", rendered.get("labelSelector") == wanted))
    checks.append(("the strategy is the value's", deployment["spec"].get("strategy") == (values.get("strategy") or None)))
    for policy in find(objects, "NetworkPolicy"):
        egress = {"ports": [443], "cidrs": [], **values.get("networkPolicy", {}).get("egress", {})}
        last = policy["spec"]["egress"][-1]
        checks.append(("the upstream egress rule allows the egress ports", [p["port"] for p in last["ports"]] == egress["ports"]))
        checks.append(("the upstream egress rule reaches the egress CIDRs", [t["ipBlock"]["cidr"] for t in last.get("to", [])] == egress["cidrs"]))
    return checks

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
        checks = expectations(values, objects)
        failed = [description for description, holds in checks if not holds]
        if failed:
            fail(f"{name} ({described}): " + "; ".join(failed))
        print(f"{name}: {len(objects)} objects rendered, {checked} validations and {len(checks)} checks passed")
        if target is None:
            continue
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
