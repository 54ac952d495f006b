#!/usr/bin/env bash
# test_deploy.sh - the deployment files of deploy/ are valid, offline.
#
# Kubernetes: every manifest of deploy/kubernetes/ (those its
# kustomization.yaml lists) validates against the Kubernetes API's schemas
# with kubernetes-models (tests/e2e/k8s_validate.js, unknown fields and
# kinds refused), and deliberately broken copies are refused, so that this
# test can fail. Every flag of the manifests' args is one that `strata
# coordinator --help` or `strata worker --help` lists, so the files cannot
# drift from the binary; --metrics-bind, until the binary has it, gets a
# note instead.
#
# Needs node with tests/node's packages in .deps/test-node
# (scripts/bootstrap.sh installs them).
#
# Usage: bash test_deploy.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=deploy
. "$(dirname "$0")/lib.sh" "$@"

kdir="$repo/deploy/kubernetes"
modules="$repo/.deps/test-node/node_modules"
validator="$repo/tests/e2e/k8s_validate.js"

# flag_known SUBCOMMAND FLAG WHERE: FLAG is in `strata SUBCOMMAND --help`.
flag_known() {
    local sub=$1 flag=$2 where=$3 help
    help=$("$strata" "$sub" --help 2>&1)
    if printf '%s\n' "$help" | grep -qE -- "(^|[^a-z-])$flag([^a-z-]|$)"; then
        pass
    elif [ "$flag" = --metrics-bind ]; then
        echo "note: $where uses --metrics-bind, which 'strata $sub --help' does not list yet"
    else
        fail "$where: 'strata $sub' has no flag $flag"
    fi
}

# ---- Kubernetes -----------------------------------------------------------

if ! command -v node >/dev/null 2>&1 || [ ! -d "$modules/kubernetes-models" ]; then
    fail "no node or no $modules/kubernetes-models (run scripts/bootstrap.sh)"
    echo "$passed passed, $failed failed"
    exit 1
fi

node "$validator" "$modules" "$kdir" >k8s.out 2>k8s.err
krc=$?
if [ "$krc" -eq 0 ]; then pass; else fail "deploy/kubernetes does not validate: $(cat k8s.err)"; fi
for kind in "PersistentVolumeClaim strata-cache" "Deployment strata-coordinator" \
    "Service strata-coordinator" "Deployment strata-worker"; do
    if grep -qP "^ok\t[^\t]+\t${kind% *}\t${kind#* }$" k8s.out; then
        pass
    else
        fail "no valid $kind among the manifests: $(cat k8s.out)"
    fi
done

# Each Secret a pod mounts is one deploy/README.md says how to create.
secrets=$(awk -F'\t' '$1 == "secret" { print $2 }' k8s.out | sort -u)
[ -n "$secrets" ] || fail "the pods mount no Secret (the CurveZMQ keys)"
for s in $secrets; do
    if grep -q "create secret generic $s " "$repo/deploy/README.md"; then
        pass
    else
        fail "deploy/README.md does not say how to create the Secret $s"
    fi
done

# The containers' args: subcommand first (the image's entry point is strata).
while IFS=$'\t' read -r -a f; do
    [ "${f[0]}" = args ] || continue
    container=${f[1]} sub=${f[2]:-}
    case $sub in
    coordinator | worker) pass ;;
    *) fail "container $container: args start with '$sub', not coordinator or worker"; continue ;;
    esac
    for a in "${f[@]:3}"; do
        case $a in --*) flag_known "$sub" "${a%%=*}" "container $container" ;; esac
    done
done <k8s.out

# Broken copies are refused, each with its own reason: break NAME FILE
# SED-EXPRESSION EXPECTED-ERROR.
break_copy() {
    local name=$1 file=$2 expr=$3 want=$4 bad="$tmp/broken-$1"
    rm -rf "$bad"
    cp -r "$kdir" "$bad"
    sed -i "$expr" "$bad/$file"
    if cmp -s "$kdir/$file" "$bad/$file"; then
        fail "broken copy '$name': the edit changed nothing (the manifests moved?)"
        return
    fi
    node "$validator" "$modules" "$bad" >/dev/null 2>"$bad.err"
    local rc=$?
    if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$bad.err"; then
        pass
    else
        fail "broken copy '$name': exit $rc, want 1 with '$want': $(cat "$bad.err")"
    fi
}
break_copy probe-port-misspelled coordinator-deployment.yaml \
    '0,/^\( *\)port: metrics$/s//\1prot: metrics/' \
    'unknown field /spec/template/spec/containers/0/livenessProbe/httpGet/prot'
break_copy replicas-string worker-deployment.yaml \
    's/^  replicas: \([0-9]*\)$/  replicas: "\1"/' 'data/spec/replicas must be integer'
break_copy unknown-kind coordinator-pvc.yaml \
    's/^kind: PersistentVolumeClaim$/kind: PersistentVolumeClam/' \
    'unknown apiVersion/kind v1/PersistentVolumeClam'
break_copy security-field-misspelled worker-deployment.yaml \
    's/readOnlyRootFilesystem:/readOnlyRootFileSystem:/' \
    '/securityContext/readOnlyRootFileSystem'
break_copy strategy-enum coordinator-deployment.yaml \
    's/type: Recreate$/type: Recreated/' 'data/spec/strategy/type must be equal to one of'
break_copy probe-port-name worker-deployment.yaml \
    '0,/^\( *\)port: metrics$/s//\1port: metric/' 'livenessProbe port metric is not a port of it'
break_copy service-selector coordinator-service.yaml \
    's/app.kubernetes.io\/component: coordinator$/app.kubernetes.io\/component: coordinater/' \
    'its selector matches no pod'
break_copy unlisted-file kustomization.yaml '/worker-deployment.yaml/d' \
    'worker-deployment.yaml: not listed in kustomization.yaml'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
