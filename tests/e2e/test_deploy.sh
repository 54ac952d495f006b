#!/usr/bin/env bash
# test_deploy.sh - the deployment files of deploy/ are valid, offline.
#
# Kubernetes: every manifest of deploy/kubernetes/ (those its
# kustomization.yaml lists) validates against the Kubernetes API's schemas
# with kubernetes-models (tests/e2e/k8s_validate.js, unknown fields and
# kinds refused), and deliberately broken copies are refused, so that this
# test can fail. The README's key commands, its Secrets and the manifests'
# args then run a coordinator and a worker here (as root: as the manifests'
# user, with the Secrets' modes; see below) that a submit goes through. systemd: the units of deploy/systemd/ pass `systemd-analyze
# verify` (run on copies whose ExecStart names the strata under test, as
# verify wants the binary to exist) and its offline security review, and a
# unit with a misspelled key does not; the README's install steps and the
# units' ExecStart, emulated, run a coordinator and a worker that a submit
# goes through. The syscalls a keyed coordinator, a
# worker and a submit make are all in the units' seccomp allow list
# (@system-service), when strace can trace here. Every flag of the
# manifests' args and of the units' ExecStart is one that `strata
# coordinator --help` or `strata worker --help` lists, so the files cannot
# drift from the binary; --metrics-bind, until the binary has it, gets a
# note instead.
#
# Needs node with tests/node's packages in .deps/test-node and
# systemd-analyze (scripts/bootstrap.sh installs both).
#
# Usage: bash test_deploy.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=deploy
. "$(dirname "$0")/lib.sh" "$@"

kdir="$repo/deploy/kubernetes"
sdir="$repo/deploy/systemd"
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

# ---- the manifests, run --------------------------------------------------
# deploy/README.md's key commands run here (its Keys block, then its
# `kubectl create secret generic` lines emulated: each --from-file is a
# file under its key, or a directory's files), each Secret laid out as the
# kubelet lays out a secret volume (a ..data directory, a symlink per key)
# and the other volumes empty, under a root of its own per container. Then
# the containers' args run there: absolute paths under that root, the
# Service's name and the wildcard address as 127.0.0.1 on free ports, and
# --metrics-bind dropped while the binary lacks it. A submit through them
# prints what strata check prints, and where the binary has --metrics-bind
# the probes' and the scrape's paths answer 200.

# readme_lines SECTION: the indented lines of deploy/README.md's section
# SECTION ("## SECTION"), continuation lines joined.
readme_lines() {
    awk -v s="## $1" '$0 == s { on = 1; next } /^## / { on = 0 } on && /^    / { print }' \
        "$repo/deploy/README.md" | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' -e 's/^    //'
}

mkdir kube && cd kube || exit 2
readme_lines Keys | awk 'NF == 0 { exit } { print }' >keys.sh
if [ -s keys.sh ] && STRATA="$strata" bash -e -c 'strata() { "$STRATA" "$@"; }; . ./keys.sh' \
    >keys.out 2>&1 && [ -f keys/coordinator/coordinator.key ]; then
    pass
else
    fail "deploy/README.md's key commands: $(cat keys.sh keys.out)"
fi
# secret_volume NAME SPEC...: the Secret NAME of `kubectl create secret
# generic NAME --from-file=SPEC...` as a volume, in secrets/NAME.
secret_volume() {
    local name=$1 spec key src f
    shift
    mkdir -p "secrets/$name/..2026_12_07_00_00_00.1"
    ln -s ..2026_12_07_00_00_00.1 "secrets/$name/..data"
    for spec in "$@"; do
        case $spec in *=*) key=${spec%%=*} src=${spec#*=} ;; *) key='' src=$spec ;; esac
        if [ -d "$src" ]; then
            for f in "$src"/*; do
                [ -f "$f" ] && cp "$f" "secrets/$name/..data/$(basename "$f")"
            done
        else
            cp "$src" "secrets/$name/..data/${key:-$(basename "$src")}" || return 1
        fi
    done
    for f in "secrets/$name/..data"/*; do ln -s "..data/$(basename "$f")" "secrets/$name/"; done
}
while read -r line; do
    read -r -a w <<<"$line"
    specs=()
    for a in "${w[@]:5}"; do
        case $a in --from-file=*) specs+=("${a#--from-file=}") ;; esac
    done
    if [ "${w[0]} ${w[1]} ${w[2]} ${w[3]}" = "kubectl create secret generic" ] &&
        secret_volume "${w[4]}" "${specs[@]}"; then
        pass
    else
        fail "deploy/README.md: cannot emulate '$line'"
    fi
done < <(readme_lines Kubernetes | grep '^kubectl create secret generic ')

port=$(free_ports)
declare -A metrics=()
# pod CONTAINER: starts the container's args in pod-CONTAINER/ as said above;
# metrics[CONTAINER] is the port of its --metrics-bind, if it has one.
pod() {
    local c=$1 root="$PWD/pod-$1" a skip='' line uid=- gid=- fsgroup=- dir
    local -a f args=() envs=() as=()
    while IFS=$'\t' read -r -a f; do
        [ "${f[1]}" = "$c" ] || continue
        case ${f[0]} in
        user) uid=${f[2]} gid=${f[3]} fsgroup=${f[4]} ;;
        mount)
            dir=$root${f[2]}
            mkdir -p "$(dirname "$dir")"
            if [ "${f[3]}" = - ]; then
                mkdir -p "$dir"
                # an emptyDir or a volume with fsGroup: the group's, setgid
                if [ "$as_root" = 1 ] && [ "$fsgroup" != - ]; then
                    chgrp "$fsgroup" "$dir" && chmod 2775 "$dir"
                fi
            else
                cp -a "secrets/${f[3]}" "$dir"
                chmod "${f[4]}" "$dir/..data"/*
                if [ "$as_root" = 1 ] && [ "$fsgroup" != - ]; then
                    chgrp "$fsgroup" "$dir/..data"/*
                fi
            fi ;;
        env) case ${f[3]} in /*) envs+=("${f[2]}=$root${f[3]}") ;; *) envs+=("${f[2]}=${f[3]}") ;; esac ;;
        args)
            for a in "${f[@]:3}"; do
                if [ -n "$skip" ]; then skip=; continue; fi
                if [ "$a" = --metrics-bind ] &&
                    ! "$strata" "${f[2]}" --help 2>&1 | grep -q -- --metrics-bind; then
                    skip=1
                    continue
                fi
                case $a in
                *:9464) a=127.0.0.1:$(free_ports) metrics[$c]=${a#*:} ;;
                tcp://*:7700) a=tcp://127.0.0.1:$port ;;
                tcp://*:7701) a=tcp://127.0.0.1:$((port + 1)) ;;
                /*) a=$root$a ;;
                esac
                args+=("$a")
            done
            line=("${f[2]}" "${args[@]}") ;;
        esac
    done <"$tmp/k8s.out"
    if [ "$as_root" = 1 ] && [ "$uid" != - ]; then
        as=(setpriv --reuid="$uid" --regid="${gid/-/$uid}" --clear-groups)
        [ "$fsgroup" != - ] && as=(setpriv --reuid="$uid" --regid="${gid/-/$uid}" --groups="$fsgroup")
    fi
    (cd "$root" && exec "${as[@]}" env "${envs[@]}" "$podstrata" "${line[@]}") 2>"$c.log" &
    pids+=($!)
}
# As root, each container runs as the user, group and fsGroup its manifest
# gives (setpriv), with the Secrets' files in their defaultMode and the
# fsGroup's, so that a key it cannot read fails here; the binary is copied
# where that user can run it.
as_root=0
podstrata=$strata
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    as_root=1
    mkdir bin && cp "$strata" bin/strata && podstrata=$PWD/bin/strata
    chmod 0755 "$tmp" "$tmp/kube"
else
    echo "note: the manifests' containers run as this user (not root, or no setpriv)"
fi
pod coordinator
if wait_for coordinator.log "clients on"; then pass; else fail "coordinator pod: $(cat coordinator.log)"; fi
pod worker
"$strata" check --no-cache --no-workers --no-environment "$repo/examples/sample" >check.out 2>check.err
timeout 60 "$strata" submit --coordinator "tcp://127.0.0.1:$port" --keys keys/client \
    --server-key keys/coordinator/coordinator.pub --no-environment "$repo/examples/sample" \
    >submit.out 2>submit.err
src=$?
if [ "$src" -eq 1 ] && cmp -s check.out submit.out; then
    pass
else
    fail "submit to the manifests' coordinator: exit $src: $(cat submit.err coordinator.log worker.log)"
fi
# the probes and the scrape of the manifests, where the binary serves them
for c in "${!metrics[@]}"; do
    for path in /healthz /readyz /metrics; do
        if python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
            "http://127.0.0.1:${metrics[$c]}$path" 2>http.err; then
            pass
        else
            fail "$c: GET $path on the metrics port: $(tail -1 http.err)"
        fi
    done
done
stop_all
if grep -qE "stopped after [1-9][0-9]* jobs" worker.log; then
    pass
else
    fail "the manifests' worker ran no job: $(cat worker.log)"
fi
cd "$tmp" || exit 2

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

# ---- systemd --------------------------------------------------------------

units=(strata-coordinator.service strata-worker@.service)
mkdir units
for u in "${units[@]}"; do
    if [ -f "$sdir/$u" ]; then pass; else fail "no deploy/systemd/$u"; fi
    sed "s#/usr/local/bin/strata #$strata #" "$sdir/$u" >"units/$u"
    if grep -q "^ExecStart=$strata " "units/$u"; then
        pass
    else
        fail "$u: ExecStart does not run /usr/local/bin/strata"
    fi
    # settings that matter to how strata stops and restarts
    for want in '^Restart=on-failure$' '^RestartPreventExitStatus=2$' '^KillSignal=SIGTERM$' \
        '^TimeoutStopSec=' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' \
        '^ProtectHome=yes$' '^PrivateTmp=yes$' '^DynamicUser=yes$' '^StateDirectory=' \
        '^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$'; do
        if grep -qE -- "$want" "$sdir/$u"; then pass; else fail "$u: no line $want"; fi
    done
    # the flags of ExecStart (continuation lines joined)
    sub=${u%%.service}
    sub=${sub#strata-}
    sub=${sub%@}
    for a in $(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$sdir/$u" | grep '^ExecStart='); do
        case $a in --*) flag_known "$sub" "$a" "$u" ;; esac
    done
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
    fail "no systemd-analyze (run scripts/bootstrap.sh)"
else
    # verify works without systemd as PID 1; it reads the units and checks
    # their keys, specifiers and the ExecStart binary
    (cd units && systemd-analyze verify --man=no ./strata-coordinator.service \
        ./strata-worker@team-a.service) >verify.out 2>&1
    vrc=$?
    if [ "$vrc" -ne 0 ] && grep -qiE "Failed to (initialize|connect|create)|not booted" verify.out; then
        echo "skip: systemd-analyze verify cannot run here: $(head -1 verify.out)"
    else
        if [ "$vrc" -eq 0 ] && [ ! -s verify.out ]; then
            pass
        else
            fail "systemd-analyze verify: exit $vrc: $(cat verify.out)"
        fi
        # ... and it would say so of a misspelled key
        mkdir bad-units
        sed 's/^RestartPreventExitStatus=/RestartPreventExitStatuss=/' \
            units/strata-worker@.service >bad-units/strata-worker@.service
        (cd bad-units && systemd-analyze verify --man=no ./strata-worker@x.service) >bad.out 2>&1
        if grep -q "Unknown key 'RestartPreventExitStatuss'" bad.out; then
            pass
        else
            fail "systemd-analyze verify let a misspelled key through: $(cat bad.out)"
        fi
        # the offline security review: 2.0 at most ("OK"; the units are at 1.5)
        for u in strata-coordinator.service strata-worker@team-a.service; do
            if (cd units && systemd-analyze security --offline=yes --threshold=20 "./$u") \
                >sec.out 2>&1; then
                pass
            else
                fail "systemd-analyze security $u: $(grep 'Overall exposure' sec.out)"
            fi
        done
    fi
fi

# The units, run: deploy/README.md's install steps for both hosts run with
# /etc under a root of their own (systemctl and the unit files' copies
# left out, the coordinator's address a free local port), then each unit's
# ExecStart runs as systemd would start it there: Environment= and
# EnvironmentFile= read, LoadCredential= copied into the credentials
# directory (%d), StateDirectory= made, ${VAR} one word and $VAR split;
# as root, under a user of its own as DynamicUser=yes would. A submit
# through them prints what strata check prints.
cd kube || exit 2
port=$(free_ports)
host="$PWD/host"
readme_lines systemd | grep -v -e '^systemctl ' -e 'deploy/systemd/' |
    sed -e "s#tcp://[^ ']*:7701#tcp://127.0.0.1:$((port + 1))#g" \
        -e "s# /etc/# $host/etc/#g; s#>/etc/#>$host/etc/#g" >install.sh
mkdir -p "$host"
if grep -q '^install ' install.sh && bash -e install.sh >install.out 2>&1 &&
    [ -f "$host/etc/strata/keys/worker.key" ]; then
    pass
else
    fail "deploy/README.md's systemd steps: $(cat install.sh install.out)"
fi
# the README's example of coordinator.env, as written
readme_lines systemd | grep '^STRATA_COORDINATOR_OPTS=' >"$host/etc/strata/coordinator.env"

# unit_start FILE INSTANCE: starts FILE's ExecStart as above; its log is
# UNIT.log.
unit_start() {
    local file=$1 inst=$2 unit line f v w opt exec_line='' dyn=61234
    local -a args=() as=() owned=()
    local -A env=()
    unit=$(basename "$file" .service)
    unit=${unit/@/@$inst}
    local creds="$host/run/credentials/$unit.service"
    mkdir -p "$creds"
    while IFS= read -r line; do
        line=${line//%i/$inst}
        case $line in
        Environment=*) line=${line#Environment=}; env[${line%%=*}]=${line#*=} ;;
        EnvironmentFile=*)
            f=${line#EnvironmentFile=} opt=
            if [ "${f:0:1}" = - ]; then f=${f:1} opt=1; fi
            if [ -f "$host$f" ]; then
                while IFS= read -r line; do
                    case $line in '' | '#'*) continue ;; esac
                    v=${line#*=}
                    v=${v#\"}
                    env[${line%%=*}]=${v%\"}
                done <"$host$f"
            elif [ -z "$opt" ]; then
                fail "$unit: no EnvironmentFile $f"
                return
            fi ;;
        LoadCredential=*)
            line=${line#LoadCredential=}
            cp "$host${line#*:}" "$creds/${line%%:*}" || fail "$unit: no credential ${line#*:}" ;;
        StateDirectory=*)
            mkdir -p "$host/var/lib/${line#StateDirectory=}"
            owned+=("$host/var/lib/${line#StateDirectory=}") ;;
        ExecStart=*) exec_line=${line#ExecStart=} ;;
        esac
    done < <(sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' "$file")
    set -f
    for w in $exec_line; do
        w=${w//%d/$creds}
        case $w in
        '${'*'}') args+=("${env[${w:2:-1}]:-}") ;;
        '$'*) args+=(${env[${w:1}]:-}) ;;
        *) args+=("$w") ;;
        esac
    done
    set +f
    for i in "${!args[@]}"; do
        case ${args[i]} in
        /usr/local/bin/strata) args[i]=$podstrata ;;
        tcp://*:7700) args[i]=tcp://127.0.0.1:$port ;;
        tcp://*:7701) args[i]=tcp://127.0.0.1:$((port + 1)) ;;
        "$host"/*) ;;
        /*) args[i]=$host${args[i]} ;;
        esac
    done
    # DynamicUser=yes: a user of its own owns the credentials (0400) and
    # the state directory; the rest it reads as anyone may
    if [ "$as_root" = 1 ] && grep -q '^DynamicUser=yes$' "$file"; then
        chmod 0400 "$creds"/*
        chown -R "$dyn:$dyn" "$creds" "${owned[@]}"
        as=(setpriv --reuid="$dyn" --regid="$dyn" --clear-groups)
    fi
    "${as[@]}" "${args[@]}" 2>"$unit.log" &
    pids+=($!)
}
unit_start "$sdir/strata-coordinator.service" ""
if wait_for strata-coordinator.log "clients on"; then
    pass
else
    fail "strata-coordinator.service: $(cat strata-coordinator.log)"
fi
unit_start "$sdir/strata-worker@.service" main
timeout 60 "$strata" submit --coordinator "tcp://127.0.0.1:$port" --keys keys/client \
    --server-key keys/coordinator/coordinator.pub --no-environment "$repo/examples/sample" \
    >submit.out 2>submit.err
src=$?
if [ "$src" -eq 1 ] && cmp -s check.out submit.out; then
    pass
else
    fail "submit to the units' coordinator: exit $src: $(cat submit.err strata-coordinator.log)"
fi
stop_all
if grep -qE "stopped after [1-9][0-9]* jobs; local cache $host/var/lib/strata-worker/main" \
    strata-worker@main.log; then
    pass
else
    fail "strata-worker@main ran no job: $(cat strata-worker@main.log)"
fi
cd "$tmp" || exit 2

# The units' seccomp allow list (@system-service) holds every syscall a
# keyed coordinator, a worker with a disk cache and a submit make; a call
# outside it would fail with EPERM under the unit.
# expand_set @SET...: the syscalls of the sets, nested sets expanded.
expand_set() {
    local seen=" " todo=("$@") s m
    while [ ${#todo[@]} -gt 0 ]; do
        s=${todo[0]}
        todo=("${todo[@]:1}")
        case $seen in *" $s "*) continue ;; esac
        seen="$seen$s "
        while read -r m; do
            case $m in @*) todo+=("$m") ;; [a-z_]*) echo "$m" ;; esac
        done < <(systemd-analyze syscall-filter "$s" | sed -n '2,$p' | grep -v '^ *#')
    done
}
if ! command -v strace >/dev/null 2>&1 || ! command -v systemd-analyze >/dev/null 2>&1 ||
    ! strace -f -qq -o /dev/null true 2>/dev/null; then
    echo "skip: the syscall check needs strace and ptrace (scripts/bootstrap.sh installs strace)"
else
    filter=$(grep -h '^SystemCallFilter=' "$sdir"/*.service | sort -u)
    if [ "$filter" = "SystemCallFilter=@system-service" ]; then pass; else
        fail "the units' SystemCallFilter changed ($filter): update this check"
    fi
    mkdir -p keys/coordinator keys/worker keys/client keys/allow
    "$strata" keygen --dir keys/coordinator --name coordinator >/dev/null &&
        "$strata" keygen --dir keys/worker --name worker >/dev/null &&
        "$strata" keygen --dir keys/client --name client >/dev/null &&
        cp keys/worker/worker.pub keys/client/client.pub keys/allow/ || fail "keygen"
    sock="ipc://$tmp/coord.sock"
    # LeakSanitizer cannot run under ptrace (the ASan build of these tests)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    strace -f -qq -o coord.trace "$strata" coordinator --bind "$sock" --keys keys/coordinator \
        --allow keys/allow --cache-dir coord-cache 2>coord.log &
    pids+=($!)
    if wait_for coord.log "clients on"; then pass; else fail "coordinator: $(cat coord.log)"; fi
    strace -f -qq -o worker.trace "$strata" worker --connect "$sock.workers" \
        --server-key keys/coordinator/coordinator.pub --key keys/worker/worker.key \
        --cache-dir worker-cache 2>worker.log &
    pids+=($!)
    wait_for worker.log "coordinator" || true
    timeout 60 "$strata" submit --coordinator "$sock" --keys keys/client \
        --server-key keys/coordinator/coordinator.pub "$repo/examples/sample" >submit.out 2>&1
    src=$?
    if [ "$src" -eq 1 ]; then pass; else fail "submit: exit $src: $(cat submit.out)"; fi
    # SIGTERM to the traced daemons (strace's children), then strace ends
    for p in "${pids[@]}"; do kill -TERM $(pgrep -P "$p") 2>/dev/null; done
    stop_all
    if grep -qE "stopped after [1-9][0-9]* jobs" worker.log; then
        pass
    else
        fail "the traced worker ran no job: $(cat worker.log)"
    fi
    expand_set @system-service | sort -u >allowed.txt
    cat coord.trace worker.trace | grep -oE '^[0-9]+ +[a-z_0-9]+\(' |
        sed -E 's/^[0-9]+ +//; s/\($//' | sort -u >used.txt
    outside=$(comm -23 used.txt allowed.txt | tr '\n' ' ')
    if [ "$(wc -l <used.txt)" -gt 20 ] && [ "$(wc -l <allowed.txt)" -gt 100 ] && [ -z "$outside" ]
    then
        pass
    else
        fail "syscalls outside @system-service: '$outside' ($(wc -l <used.txt) used)"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
