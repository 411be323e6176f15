#!/usr/bin/env bash
# The operator's own memory under `run`: a generated tenant of N users (default 100,000) served by
# the sandbox, one TeamsTenantSync on a real cluster, `dialpad-teams-operator run` as its own
# process; prints the peak RSS (VmHWM), the current RSS and CPU after each of the first five
# completed syncs (SYNCS to change), so that growth from one sync to the next shows, and the bytes
# each sync wrote to the apiserver for the users report (the operator's
# dialpad_teams_users_report_bytes_written_total: the whole report on the first sync, nothing on a
# sync in which no user's state changed) with the report's ConfigMaps and their total size.
#
#   KUBECONFIG=... benches/run-memory.sh [USERS]
#
# Needs a cluster to talk to (any apiserver: kind, or `../shared/k8s/up.sh` beside a clone) and
# kubectl. It installs the CRD, uses a namespace `run-memory-<pid>` (deleted at the end), serves
# the sandbox on 127.0.0.1:$PORT (18080) and the operator's metrics on 127.0.0.1:$METRICS_PORT
# (18081). BIN names another build of the binary (its memory is then that build's, not the
# release's). CHANGE_EVENTS=1 turns change events on. Figures are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
: "${KUBECONFIG:?set KUBECONFIG to the cluster to use}"
ns=run-memory-$$
port=${PORT:-18080}
metrics_port=${METRICS_PORT:-18081}
if [ -z "${BIN:-}" ]; then
    cargo build --release --locked --quiet
fi
bin=${BIN:-target/release/dialpad-teams-operator}
work=$(mktemp -d)
cleanup() {
    kill "${operator:-}" "${sandbox:-}" 2>/dev/null || true
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" sandbox --generate "$users" --listen "127.0.0.1:$port" >"$work/sandbox.log" 2>&1 &
sandbox=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.5; done

"$bin" crd | kubectl apply -f - >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" create secret generic teams-admin \
    --from-literal=username=dialpad-msteams-admin@contoso.com \
    --from-literal=password=sandbox-admin-password >/dev/null
kubectl -n "$ns" create secret generic dialpad --from-literal=apiKey=sandbox-dialpad-api-key >/dev/null
# CHANGE_EVENTS=1 turns change events on (a full sync a minute still, with fullSyncInterval: 1m),
# so that the snapshot kept for targeted re-syncs is in the figures.
events_on=()
if [ -n "${CHANGE_EVENTS:-}" ]; then
    events_on=(-e "s/# changeEvents: {enabled: true}/changeEvents: {enabled: true}/"
        -e "s/^  syncInterval: 1m$/  syncInterval: 1m\n  fullSyncInterval: 1m/")
fi
sed -e "s/namespace: telephony/namespace: $ns/" \
    -e "s#http://127.0.0.1:8080#http://127.0.0.1:$port#" \
    -e "s/syncInterval: 15m/syncInterval: 1m/" \
    "${events_on[@]}" \
    examples/teamstenantsync-demo.yaml | kubectl apply -f - >/dev/null

RUST_LOG=warn "$bin" run --leader-election=false --operator-namespace "$ns" --namespace "$ns" \
    --metrics-addr "127.0.0.1:$metrics_port" --allowed-endpoint "http://127.0.0.1:$port" >"$work/operator.log" 2>&1 &
operator=$!
started=$(date +%s)
ticks=$(getconf CLK_TCK)

report() {
    local hwm rss cpu
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$operator/status")
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$operator/status")
    cpu=$(awk -v t="$ticks" '{printf "%.1f", ($14 + $15) / t}' "/proc/$operator/stat")
    printf 'sync %s: %s users, %s s after start, peak RSS %s MiB, RSS now %s MiB, CPU %s s\n' \
        "$1" "$users" "$(($(date +%s) - started))" "$((hwm / 1024))" "$((rss / 1024))" "$cpu"
}

# The users report: bytes written to the apiserver by this sync, its ConfigMaps and their size.
written_before=0
report_cost() {
    local written maps size
    written=$(curl -s "http://127.0.0.1:$metrics_port/metrics" |
        awk '/^dialpad_teams_users_report_bytes_written_total\{/ {print $NF}')
    written=${written:-0}
    maps=$(kubectl -n "$ns" get configmaps -l teamssync.io/users-report-of -o name | wc -l)
    size=$(kubectl -n "$ns" get configmaps -l teamssync.io/users-report-of \
        -o jsonpath='{range .items[*]}{.binaryData.users\.json\.gz}{"\n"}{end}' |
        awk '{bytes += int(length($0) / 4 * 3)} END {print bytes + 0}')
    printf 'sync %s: users report: %s bytes written to the apiserver by this sync; %s ConfigMaps, %s KiB compressed\n' \
        "$1" "$((written - written_before))" "$maps" "$((size / 1024))"
    written_before=$written
}

last=""
for sync in $(seq 1 "${SYNCS:-5}"); do
    while :; do
        kill -0 "$operator" 2>/dev/null || { cat "$work/operator.log" >&2; echo "the operator exited" >&2; exit 1; }
        now=$(kubectl -n "$ns" get teamstenantsync contoso -o jsonpath='{.status.lastSyncTime}' 2>/dev/null || true)
        if [ -n "$now" ] && [ "$now" != "$last" ]; then
            last=$now
            break
        fi
        sleep 1
    done
    # A sync that stopped before reading anything (a refused endpoint, a wrong Secret) also moves
    # lastSyncTime: its figures would measure nothing.
    desired=$(kubectl -n "$ns" get teamstenantsync contoso -o jsonpath='{.status.summary.desired}')
    if [ "${desired:-0}" -eq 0 ]; then
        kubectl -n "$ns" get teamstenantsync contoso -o jsonpath='{.status.conditions}' >&2; echo >&2
        echo "sync $sync read no users: the figures would measure nothing" >&2
        exit 1
    fi
    report "$sync"
    report_cost "$sync"
done
kubectl -n "$ns" get teamstenantsync contoso -o jsonpath='{.status.summary}'; echo
