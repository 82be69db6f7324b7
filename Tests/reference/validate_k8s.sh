#!/usr/bin/env bash
# Offline validation of the deployment files (no cluster, no Docker engine):
#
#   1. renders every Kustomize overlay with `kubectl kustomize` (kustomize v5);
#   2. validates every rendered core object against the Kubernetes OpenAPI
#      schemas shipped in the PyPI package kubernetes-validate (strict: unknown
#      fields are errors). CRDs it has no schema for (KEDA ScaledObject,
#      TriggerAuthentication) are reported as SKIPPED and checked structurally
#      in step 3 instead;
#   3. checks PersonaForge's own rules on the rendered objects: securityContext
#      everywhere, every mounted Secret/ConfigMap/projected/downwardAPI file
#      readable by the container's user (owner root:fsGroup or root:root, mode
#      from items[].mode / defaultMode), resources on every container, worker
#      termination grace above its --grace-period, the KEDA trigger on the shard
#      stream's length (1 per worker) with minReplicaCount 0 and a scale-down
#      stabilization window of at least the worker grace period,
#      placeholder-only Secrets, the Redis ACL users (default off; personaforge
#      limited to the namespace's keys and to QueueLayout.redisCommands, read
#      from the Swift source; keda read-only on the shard stream) and who
#      authenticates as which, the PostgreSQL CA mounted for verify-full in
#      production, a metrics port with /health
#      and /ready probes and prometheus.io annotations on every service, and (for
#      the production overlay rendered with k8s/components/prometheus-operator) a
#      ServiceMonitor whose Service selects those pods on that port;
#   4. validates deploy/compose.yaml against the Compose Specification schema
#      vendored in the PyPI package check-jsonschema (no engine needed), then
#      checks the worker's stop_grace_period against its --grace-period and that
#      every mounted secret is readable by its service's user.
#
# Exit status: 0 when everything passed, 1 on any validation error.
#
# Usage: Tests/reference/validate_k8s.sh            (from anywhere in the repo)
# Env:   PF_K8S_VERSION (default 1.30.0), PF_K8S_VENV (default .local/venv-k8s),
#        KUBECTL (default kubectl)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
K8S_VERSION="${PF_K8S_VERSION:-1.30.0}"
VENV="${PF_K8S_VENV:-$ROOT/.local/venv-k8s}"
KUBECTL="${KUBECTL:-kubectl}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

if [[ ! -x "$VENV/bin/kubernetes-validate" || ! -x "$VENV/bin/check-jsonschema" ]]; then
    echo "setting up $VENV (kubernetes-validate, check-jsonschema)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet kubernetes-validate check-jsonschema pyyaml
fi

failures=0
overlays=()
declare -A sources
for dir in k8s/overlays/*/; do
    name="$(basename "$dir")"
    overlays+=("$name"); sources[$name]="k8s/overlays/$name"
done
# The production overlay with the optional Prometheus Operator component. Kustomize
# wants relative paths, so the wrapper kustomization refers back to the repository.
wrapper="$OUT/production-prometheus-operator"
mkdir -p "$wrapper"
rel="$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$ROOT/k8s" "$wrapper")"
cat > "$wrapper/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: personaforge
resources:
  - $rel/overlays/production
components:
  - $rel/components/prometheus-operator
EOF
overlays+=("production-prometheus-operator"); sources[production-prometheus-operator]="$wrapper"

for overlay in "${overlays[@]}"; do
    rendered="$OUT/$overlay.yaml"
    echo "== $overlay: kubectl kustomize ${sources[$overlay]#"$OUT/"}"
    if ! "$KUBECTL" kustomize "${sources[$overlay]}" > "$rendered"; then
        echo "FAIL render $overlay"; failures=$((failures + 1)); continue
    fi
    echo "   $(grep -c '^kind:' "$rendered") objects"

    echo "== $overlay: kubernetes-validate --strict -k $K8S_VERSION"
    # kubernetes-validate exits non-zero on invalid objects; missing schemas (CRDs)
    # are WARN lines and do not change its exit status.
    if "$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$rendered" > "$OUT/$overlay.log" 2>&1; then
        status=0
    else
        status=$?
    fi
    passed=$(grep -c ' passed for resource ' "$OUT/$overlay.log" || true)
    skipped=$(grep "Couldn't find schema" "$OUT/$overlay.log" | sed -E 's/.*for kind ([A-Za-z]+) with api version ([^ ]+).*/\1 (\2)/' | tr '\n' ',' | sed 's/,$//; s/,/, /g' || true)
    echo "   passed: $passed; skipped (no schema, checked in policy step): ${skipped:-none}"
    if [[ $status -ne 0 ]] || grep -qE '^(ERROR|CRITICAL)' "$OUT/$overlay.log"; then
        grep -vE ' passed for resource |Couldn.t find schema' "$OUT/$overlay.log" || true
        echo "FAIL schema $overlay"; failures=$((failures + 1))
    fi

    echo "== $overlay: PersonaForge policy checks"
    if ! "$VENV/bin/python" - "$rendered" "$overlay" <<'PY'
import re, sys, yaml

path, overlay = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errors = []

def err(obj, msg):
    errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {msg}")

def pod_spec(obj):
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None

def arg_value(args, flag, env):
    if flag not in args:
        return None
    value = args[args.index(flag) + 1]
    m = re.fullmatch(r"\$\((\w+)\)", value)
    return env.get(m.group(1)) if m else value

# Mounted Secret / ConfigMap / projected / downwardAPI files must be readable by the
# container's user. What the kubelet does: it writes these files owned by uid 0 and,
# when the pod sets fsGroup, gid fsGroup (gid 0 otherwise), with the mode of the
# item (items[].mode) or the volume's defaultMode (0644 when unset). The process
# runs as runAsUser / runAsGroup (the container's securityContext overrides the
# pod's) with the supplementary groups fsGroup and supplementalGroups. (With fsGroup
# the kubelet also ORs 0440 into these files' modes; this check does not count on
# that and asks for a mode that is readable as written.) Groups the image's
# /etc/group adds are unknown offline and not counted.
def volume_files(vol):
    """(mode, description) of every file a volume may hold, or None if not a file volume."""
    def modes(default, items):
        if not items:
            return [(default, f"defaultMode {default:04o}")]
        return [(i.get("mode", default), f"item {i.get('path', i.get('key'))} mode {i.get('mode', default):04o}") for i in items]
    for kind in ("secret", "configMap", "downwardAPI"):
        if kind in vol:
            src = vol[kind]
            return modes(src.get("defaultMode", 0o644), src.get("items", []))
    if "projected" in vol:
        default = vol["projected"].get("defaultMode", 0o644)
        files = []
        for source in vol["projected"].get("sources", []):
            for kind, src in source.items():
                if kind == "serviceAccountToken":
                    files.append((default, f"{kind} mode {default:04o}"))
                else:
                    files += [(m, f"{kind} {d}") for m, d in modes(default, src.get("items", []))]
        return files
    return None

def readable(mode, owner_uid, owner_gid, uid, gids):
    if uid == owner_uid:
        return bool(mode & 0o400)
    if owner_gid in gids:
        return bool(mode & 0o040)
    return bool(mode & 0o004)

def check_mounted_files(obj, spec):
    psc = spec.get("securityContext", {})
    fs_group = psc.get("fsGroup")
    owner_uid, owner_gid = 0, (fs_group if fs_group is not None else 0)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        gid = sc.get("runAsGroup", psc.get("runAsGroup"))
        gids = {g for g in [gid, fs_group, *psc.get("supplementalGroups", [])] if g is not None}
        for m in c.get("volumeMounts", []):
            vol = volumes.get(m["name"])
            files = volume_files(vol) if vol else None
            if not files:
                continue
            kind = next(k for k in ("secret", "configMap", "downwardAPI", "projected") if k in vol)
            if uid is None:
                err(obj, f"container {c['name']}: mounts {kind} volume {m['name']} but sets no runAsUser: cannot tell whether it can read it")
                continue
            for mode, what in files:
                if not readable(mode, owner_uid, owner_gid, uid, gids):
                    err(obj, f"container {c['name']} (uid {uid}, groups {sorted(gids) or 'none'}) cannot read "
                             f"{kind} volume {m['name']} at {m['mountPath']}: {what}, files owned by "
                             f"{owner_uid}:{owner_gid} ({'fsGroup' if fs_group is not None else 'no fsGroup: root:root'})")

configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
env_cm = next((v for k, v in configmaps.items() if k.startswith("personaforge-env")), {})

for obj in docs:
    spec = pod_spec(obj)
    if spec is None:
        continue
    psc = spec.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        err(obj, "pod securityContext.runAsNonRoot must be true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        err(obj, "pod seccompProfile must be RuntimeDefault")
    if spec.get("automountServiceAccountToken") is not False:
        err(obj, "automountServiceAccountToken must be false")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            err(obj, f"container {c['name']}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            err(obj, f"container {c['name']}: readOnlyRootFilesystem must be true")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            err(obj, f"container {c['name']}: capabilities.drop must be [ALL]")
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(part, {}):
                    err(obj, f"container {c['name']}: resources.{part}.{r} missing")
    check_mounted_files(obj, spec)
    # PersonaForge services: grace periods and shared lease.
    c0 = spec["containers"][0]
    args = c0.get("args", [])
    if args[:1] == ["worker"]:
        grace = float(arg_value(args, "--grace-period", env_cm) or 20)
        tgp = spec.get("terminationGracePeriodSeconds", 30)
        if not tgp > grace:
            err(obj, f"terminationGracePeriodSeconds {tgp} must exceed worker --grace-period {grace}")
        if obj["kind"] == "Deployment" and "replicas" in obj["spec"]:
            err(obj, "worker Deployment must not set replicas (KEDA owns them)")
    if args[:1] in (["worker"], ["coordinator"]):
        if arg_value(args, "--shard-lease", env_cm) != env_cm.get("PF_SHARD_LEASE"):
            err(obj, "--shard-lease must come from PF_SHARD_LEASE (coordinator and worker must agree)")
    if args[:1] in (["worker"], ["coordinator"], ["reducer"]):
        metrics_port = int(env_cm.get("PERSONAFORGE_METRICS_PORT", "0"))
        if metrics_port <= 0:
            err(obj, "PERSONAFORGE_METRICS_PORT must be set in the env ConfigMap (metrics and probes)")
        ports = {p.get("name"): p.get("containerPort") for p in c0.get("ports", [])}
        if ports.get("metrics") != metrics_port:
            err(obj, f"container port 'metrics' must be {metrics_port} (PERSONAFORGE_METRICS_PORT), got {ports.get('metrics')}")
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = c0.get(probe, {}).get("httpGet", {})
            if get.get("path") != path or get.get("port") not in ("metrics", metrics_port):
                err(obj, f"{probe} must be httpGet {path} on the metrics port")
        annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(metrics_port):
            err(obj, "pod template needs prometheus.io/scrape: \"true\" and prometheus.io/port matching the metrics port")
        if obj["spec"]["template"]["metadata"].get("labels", {}).get("personaforge.io/metrics") != "true":
            err(obj, "pod template needs the label personaforge.io/metrics: \"true\" (metrics NetworkPolicy, Service)")
        grace = float(arg_value(args, "--grace-period", env_cm) or env_cm.get("PERSONAFORGE_GRACE_PERIOD", 20))
        if not spec.get("terminationGracePeriodSeconds", 30) >= grace + 5:
            err(obj, f"terminationGracePeriodSeconds must be at least the grace period ({grace}) + 5 (the shutdown watchdog's margin)")

scaled = [d for d in docs if d["kind"] == "ScaledObject"]
auths = {d["metadata"]["name"]: d for d in docs if d["kind"] == "TriggerAuthentication"}
deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
if not scaled:
    errors.append("no KEDA ScaledObject for the workers")
for so in scaled:
    if so["apiVersion"] != "keda.sh/v1alpha1":
        err(so, "apiVersion must be keda.sh/v1alpha1")
    spec = so["spec"]
    if spec.get("scaleTargetRef", {}).get("name") not in deployments:
        err(so, "scaleTargetRef does not name a rendered Deployment")
    if spec.get("minReplicaCount") != 0:
        err(so, "minReplicaCount must be 0 (scale to zero when idle)")
    if not isinstance(spec.get("maxReplicaCount"), int) or spec["maxReplicaCount"] < 1:
        err(so, "maxReplicaCount must be a positive integer")
    # Scale-down: the HPA acts on the highest recommendation of the stabilization
    # window, so a window of at least the worker's grace period (itself sized to the
    # expected shard duration) lets the shards in flight when the queue empties
    # finish before any pod is removed.
    target = next((d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == spec.get("scaleTargetRef", {}).get("name")), None)
    if target is not None:
        wargs = target["spec"]["template"]["spec"]["containers"][0].get("args", [])
        wgrace = float(arg_value(wargs, "--grace-period", env_cm) or env_cm.get("PERSONAFORGE_GRACE_PERIOD", 20))
        window = (spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior", {})
                  .get("scaleDown", {}).get("stabilizationWindowSeconds"))
        if not isinstance(window, int) or window < wgrace:
            err(so, f"advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds ({window}) "
                    f"must be at least the worker --grace-period ({wgrace:g} s, sized to the expected shard duration)")
    for t in spec.get("triggers", []):
        if t.get("type") != "redis-streams":
            err(so, f"unexpected trigger type {t.get('type')}"); continue
        md = t.get("metadata", {})
        if not re.fullmatch(r"[^:]+:\{[^}]+\}:shards", md.get("stream", "")):
            err(so, "trigger stream must be NS:{NS}:shards")
        ns = env_cm.get("PERSONAFORGE_NAMESPACE", "pf")
        # Every key is pf:{NAMESPACE}:... (QueueLayout); only the hash tag follows the namespace.
        if md.get("stream") != f"pf:{{{ns}}}:shards":
            err(so, f"trigger stream {md.get('stream')} does not match PERSONAFORGE_NAMESPACE={ns}")
        if "streamLength" not in md or not str(md["streamLength"]).isdigit():
            err(so, "trigger must use streamLength (a number, as a string)")
        elif str(md["streamLength"]) != "1":
            err(so, f"trigger streamLength must be \"1\" (one shard queued or in flight per worker), got {md['streamLength']!r}: "
                    "a larger target asks for fewer pods than there are shards in flight and scales busy workers down")
        for bad in ("consumerGroup", "lagCount", "lag", "pendingEntriesCount"):
            if bad in md:
                err(so, f"trigger must not set {bad}: with it KEDA scales on pending/lag, which XDEL makes useless")
        if not (md.get("address") or md.get("host")):
            err(so, "trigger needs address or host")
        ref = t.get("authenticationRef", {}).get("name")
        if ref and ref not in auths:
            err(so, f"authenticationRef {ref} not rendered")
for ta in auths.values():
    for ref in ta["spec"].get("secretTargetRef", []):
        if not {"parameter", "name", "key"} <= set(ref):
            err(ta, "secretTargetRef entries need parameter, name, key")
for s in secrets.values():
    for k, v in {**s.get("stringData", {}), **s.get("data", {})}.items():
        if "CHANGE_ME" not in str(v):
            err(s, f"example Secret key {k} must hold a CHANGE_ME placeholder, not a value")

# Redis ACL (docs/operations.md, "Redis ACL"): no default user; `personaforge` may
# use exactly the commands PersonaForge sends (QueueLayout.redisCommands in the
# Swift source) on the keys of PERSONAFORGE_NAMESPACE only; `keda` may only read
# the shard stream. Every client authenticates as the user meant for it.
ns = env_cm.get("PERSONAFORGE_NAMESPACE", "pf")
layout = open("Sources/PersonaForgeQueue/QueueLayout.swift").read()
commands = set(re.findall(r'"([^"]+)"', re.search(r"redisCommands = \[(.*?)\]", layout, re.S).group(1)))

def env_secret_key(container, name):
    for e in container.get("env", []):
        if e["name"] == name:
            return e.get("valueFrom", {}).get("secretKeyRef", {}).get("key")
    return None

def acl_users(args):
    users, current = {}, None
    for token in args:
        if token.startswith("--"):
            current = [] if token == "--user" else None
            continue
        if current is not None:
            if not current:
                users[token] = current
            current.append(token)
    return {name: rules[1:] for name, rules in users.items()}

redis_sets = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "redis"]
if not redis_sets:
    errors.append("no Redis StatefulSet")
for rs in redis_sets:
    c = rs["spec"]["template"]["spec"]["containers"][0]
    args = c.get("args", [])
    if "--requirepass" in args:
        err(rs, "Redis must use ACL users (--user), not --requirepass: the default user has every right")
    users = acl_users(args)
    if users.get("default") != ["off"]:
        err(rs, f"the Redis default user must be off, got {users.get('default')}")
    for user, key, patterns, allowed in (
        ("personaforge", "redis-password", [f"~pf:{{{ns}}}:*"], commands),
        ("keda", "redis-keda-password", [f"%R~pf:{{{ns}}}:shards"], {"xlen", "ping"}),
    ):
        rules = users.get(user)
        if rules is None:
            err(rs, f"no ACL user {user}"); continue
        passwords = [r[1:] for r in rules if r.startswith(">")]
        var = re.fullmatch(r"\$\((\w+)\)", passwords[0]).group(1) if len(passwords) == 1 and re.fullmatch(r"\$\((\w+)\)", passwords[0]) else None
        if var is None or env_secret_key(c, var) != key:
            err(rs, f"ACL user {user}: the password must be one >$(VAR), VAR from Secret key {key}")
        if rules[:1] != ["on"] or not {"resetkeys", "resetchannels", "-@all"} <= set(rules):
            err(rs, f"ACL user {user} must be: on, resetkeys, resetchannels, -@all, then its rules")
        got = [r for r in rules if r.startswith(("~", "%"))]
        if got != patterns:
            err(rs, f"ACL user {user}: key patterns {got} must be {patterns} (PERSONAFORGE_NAMESPACE={ns})")
        plus = {r[1:] for r in rules if r.startswith("+")}
        if plus != allowed:
            err(rs, f"ACL user {user}: commands differ from {'QueueLayout.redisCommands' if user == 'personaforge' else 'xlen, ping'}: "
                    f"missing {sorted(allowed - plus)}, extra {sorted(plus - allowed)}")
    for probe in ("readinessProbe", "livenessProbe"):
        if "--user personaforge" not in " ".join(c.get(probe, {}).get("exec", {}).get("command", [])):
            err(rs, f"{probe}: redis-cli must authenticate as --user personaforge (the default user is off)")
for obj in docs:
    spec = pod_spec(obj)
    for c in (spec or {}).get("containers", []):
        for e in c.get("env", []):
            if e["name"] != "PERSONAFORGE_REDIS_URL":
                continue
            if not str(e.get("value", "")).startswith("redis://personaforge:$(REDIS_PASSWORD)@") or env_secret_key(c, "REDIS_PASSWORD") != "redis-password":
                err(obj, f"container {c['name']}: PERSONAFORGE_REDIS_URL must be redis://personaforge:$(REDIS_PASSWORD)@..., REDIS_PASSWORD from redis-password")
for ta in auths.values():
    refs = {r.get("parameter"): r for r in ta["spec"].get("secretTargetRef", [])}
    envs = {r.get("parameter"): r for r in ta["spec"].get("env", [])}
    if refs.get("password", {}).get("key") != "redis-keda-password":
        err(ta, "the KEDA trigger's password must be Secret key redis-keda-password (the read-only ACL user keda)")
    user_env = envs.get("username", {})
    worker = next((c for d in docs if d["kind"] == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]
                   if c["name"] == user_env.get("containerName")), None)
    value = next((e.get("value") for e in (worker or {}).get("env", []) if e["name"] == user_env.get("name")), None)
    if value != "keda":
        err(ta, f"the KEDA trigger's username must come from env {user_env.get('name')} of container {user_env.get('containerName')}, set to keda (got {value!r})")

# PostgreSQL over verified TLS (k8s/components/postgres-tls): where the CA Secret is
# mounted, every container that connects to PostgreSQL mounts it; production must.
ca_mounted = any(v.get("secret", {}).get("secretName") == "personaforge-postgres-ca"
                 for d in docs if pod_spec(d) for v in pod_spec(d).get("volumes", []))
if overlay.startswith("production") and not ca_mounted:
    errors.append("production must mount the PostgreSQL CA (components/postgres-tls) for sslmode=verify-full")
if ca_mounted:
    for obj in docs:
        spec = pod_spec(obj)
        if not spec:
            continue
        volumes = {v["name"] for v in spec.get("volumes", []) if v.get("secret", {}).get("secretName") == "personaforge-postgres-ca"}
        for c in spec["containers"]:
            if any(e["name"] == "PERSONAFORGE_DATABASE_URL" for e in c.get("env", [])):
                if not any(m["name"] in volumes and m["mountPath"] == "/etc/personaforge/postgres-ca" for m in c.get("volumeMounts", [])):
                    err(obj, f"container {c['name']}: connects to PostgreSQL but does not mount the CA at /etc/personaforge/postgres-ca")

monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
services = [d for d in docs if d["kind"] == "Service"]
for sm in monitors:
    if sm["apiVersion"] != "monitoring.coreos.com/v1":
        err(sm, "apiVersion must be monitoring.coreos.com/v1")
    wanted = sm["spec"]["selector"].get("matchLabels", {})
    matched = [s for s in services if wanted.items() <= s["metadata"].get("labels", {}).items()]
    if len(matched) != 1:
        err(sm, f"selector {wanted} must match exactly one Service, matched {len(matched)}")
        continue
    svc = matched[0]
    port_names = {p.get("name") for p in svc["spec"].get("ports", [])}
    for ep in sm["spec"].get("endpoints", []):
        if ep.get("port") not in port_names:
            err(sm, f"endpoint port {ep.get('port')} is not a port of Service {svc['metadata']['name']}")
        if ep.get("path", "/metrics") != "/metrics":
            err(sm, "endpoint path must be /metrics")
    selector = svc["spec"].get("selector", {})
    pods = [d for d in docs if pod_spec(d) is not None and selector.items() <= d["spec"]["template"]["metadata"].get("labels", {}).items()]
    roles = sorted(p["spec"]["template"]["spec"]["containers"][0].get("args", [""])[0] for p in pods)
    if roles != ["coordinator", "reducer", "worker"]:
        err(svc, f"must select the coordinator, reducer and worker pods; selects {roles}")
if overlay.endswith("prometheus-operator") and not monitors:
    errors.append("the prometheus-operator component rendered no ServiceMonitor")

for e in errors:
    print("   FAIL", e)
print(f"   {len(docs)} objects, {len(errors)} policy error(s)")
sys.exit(1 if errors else 0)
PY
    then
        failures=$((failures + 1))
    fi
done

echo "== deploy/compose.yaml: check-jsonschema --builtin-schema vendor.compose-spec"
if "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml; then
    :
else
    echo "FAIL compose schema"; failures=$((failures + 1))
fi

echo "== deploy/compose.yaml: PersonaForge policy checks"
if ! "$VENV/bin/python" - deploy/compose.yaml <<'PY'
import re, sys, yaml

compose = yaml.safe_load(open(sys.argv[1]))
services = compose.get("services", {})
errors = []

def default(value):
    """A value with ${VAR:-default} interpolations replaced by their defaults."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", str(value))

def seconds(duration):
    total, rest = 0.0, default(duration)
    for amount, unit in re.findall(r"([0-9.]+)(h|ms|m|s|us)", rest):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total

# The worker's stop grace period covers its --grace-period plus the watchdog's margin.
for name, svc in services.items():
    command = [default(a) for a in svc.get("command", [])] if isinstance(svc.get("command"), list) else []
    if command[:1] == ["worker"]:
        grace = float(command[command.index("--grace-period") + 1]) if "--grace-period" in command else \
            float(default(svc.get("environment", {}).get("PERSONAFORGE_GRACE_PERIOD", 20)))
        stop = seconds(svc.get("stop_grace_period", "10s"))
        if stop < grace + 5:
            errors.append(f"service {name}: stop_grace_period ({stop:g} s) must be at least --grace-period ({grace:g} s) + 5")

# Mounted secrets must be readable by the service's user. Compose mounts a secret
# file owned by uid/gid (long syntax; 0 by default) with mode (default 0444); for
# file: secrets without Swarm, the host file is bind-mounted as it is.
IMAGE_USER = (10001, 10001)   # USER 10001:10001 in deploy/Dockerfile
for name, svc in services.items():
    if not svc.get("secrets"):
        continue
    user = default(svc.get("user", ""))
    if user:
        uid, _, gid = user.partition(":")
        uid, gid = int(uid), int(gid or uid)
    elif "personaforge" in default(svc.get("image", "")):
        uid, gid = IMAGE_USER
    else:
        uid = gid = None
    for ref in svc["secrets"]:
        ref = {"source": ref} if isinstance(ref, str) else ref
        mode = int(str(ref.get("mode", "0444")), 8) if isinstance(ref.get("mode", "0444"), str) else ref["mode"]
        owner_uid, owner_gid = int(ref.get("uid", 0)), int(ref.get("gid", 0))
        if uid is None:
            ok = bool(mode & 0o004)
        elif uid == owner_uid:
            ok = bool(mode & 0o400)
        elif gid == owner_gid:
            ok = bool(mode & 0o040)
        else:
            ok = bool(mode & 0o004)
        if not ok:
            errors.append(f"service {name} (user {uid}:{gid}) cannot read secret {ref['source']}: mode {mode:04o}, owned by {owner_uid}:{owner_gid}")

for e in errors:
    print("   FAIL", e)
print(f"   {len(services)} services, {len(errors)} policy error(s)")
sys.exit(1 if errors else 0)
PY
then
    failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
    echo "validate_k8s: $failures failure(s)"
    exit 1
fi
echo "validate_k8s: all overlays rendered and valid (${overlays[*]}); compose file valid"
