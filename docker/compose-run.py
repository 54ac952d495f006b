#!/usr/bin/python3
"""compose-run.py - run docker/compose.yml with plain `podman run` commands.

Debian 12's podman-compose (1.0.3) cannot start services on the host's
network, which is how compose.yml runs a coordinator and its workers, and
a host may have podman without any compose tool. This reads the same
file and turns each service into the `podman run` (or `docker run`)
command that `docker compose` would amount to, for the keys the file
uses; any other key is an error, so the two cannot drift apart silently.

    compose-run.py [-f FILE] [-p PROJECT] [--engine podman] [--dry-run] COMMAND
      build [ENGINE-BUILD-ARGS...]  build each service's image (extra
                                    arguments such as --network host go
                                    to the engine's build)
      up [--scale SERVICE=N]... [SERVICE...]
                                    start the services (all by default;
                                    depends_on first), detached; the
                                    containers are PROJECT-SERVICE-N
      down [--volumes]              remove the containers (and the named
                                    volumes, PROJECT_NAME)

Variables in the file (${VAR}, ${VAR:-default}, ${VAR-default}, $$) come
from the environment, as with docker compose. --dry-run prints the
commands instead of running them.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

import yaml

SERVICE_KEYS = {"build", "image", "network_mode", "command", "environment",
                "volumes", "read_only", "tmpfs", "stop_signal", "stop_grace_period",
                "healthcheck", "depends_on", "user", "restart", "ports"}


def fail(msg):
    print(f"compose-run: {msg}", file=sys.stderr)
    sys.exit(2)


def interpolate(value):
    """Expands variables in every string of value, as compose does."""
    if isinstance(value, str):
        def one(m):
            if m.group(0) == "$$":
                return "$"
            name = m.group("braced") or m.group("plain")
            op, default = m.group("op"), m.group("default") or ""
            got = os.environ.get(name)
            if op == ":-" and not got:
                return default
            if op == "-" and got is None:
                return default
            return got or ""
        pattern = (r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
                   r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)")
        return re.sub(pattern, one, value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def seconds(text):
    """'10s', '1m30s', '500ms' or a number: whole seconds, at least 1."""
    if isinstance(text, (int, float)):
        return max(1, int(text))
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", str(text)):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return max(1, int(round(total)))


def volume_arg(spec, base, project):
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        fail(f"volume {spec}: expected SOURCE:TARGET[:MODE]")
    src = parts[0]
    if src.startswith((".", "/", "~")):
        src = os.path.normpath(os.path.join(base, os.path.expanduser(src)))
    else:
        src = f"{project}_{src}"
    return ":".join([src] + parts[1:])


def run_args(engine, project, base, name, svc, index):
    """The engine's run command for replica index of service name."""
    unknown = set(svc) - SERVICE_KEYS
    if unknown:
        fail(f"service {name}: keys this script does not translate: {', '.join(sorted(unknown))}")
    if "image" not in svc:
        fail(f"service {name}: no image")
    args = [engine, "run", "-d", "--name", f"{project}-{name}-{index}",
            "--label", f"com.docker.compose.project={project}",
            "--label", f"com.docker.compose.service={name}"]
    if "network_mode" in svc:
        args += ["--network", svc["network_mode"]]
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, os.environ.get(e, "")) for e in env)
    for k, v in env.items():
        args += ["--env", f"{k}={'' if v is None else v}"]
    for spec in svc.get("volumes") or []:
        args += ["--volume", volume_arg(spec, base, project)]
    if svc.get("read_only"):
        args.append("--read-only")
    tmpfs = svc.get("tmpfs") or []
    for t in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        args += ["--tmpfs", t]
    if "stop_signal" in svc:
        args += ["--stop-signal", svc["stop_signal"]]
    if "stop_grace_period" in svc:
        args += ["--stop-timeout", str(seconds(svc["stop_grace_period"]))]
    health = svc.get("healthcheck") or {}
    if health.get("disable"):
        args.append("--no-healthcheck")
    elif health:
        fail(f"service {name}: only 'healthcheck: disable: true' is translated")
    if "user" in svc:
        args += ["--user", str(svc["user"])]
    if "restart" in svc:
        args += ["--restart", svc["restart"]]
    if svc.get("network_mode") != "host":
        for p in svc.get("ports") or []:
            args += ["--publish", str(p)]
    args.append(svc["image"])
    cmd = svc.get("command")
    if cmd is not None:
        args += cmd if isinstance(cmd, list) else shlex.split(cmd)
    return args


def ordered(services):
    """Service names, each after those it depends on."""
    done, order = set(), []

    def visit(n, path):
        if n in done:
            return
        if n in path:
            fail(f"depends_on cycle through {n}")
        if n not in services:
            fail(f"depends_on names no service {n}")
        deps = services[n].get("depends_on") or []
        for d in (deps if isinstance(deps, list) else list(deps)):
            visit(d, path + [n])
        done.add(n)
        order.append(n)

    for n in services:
        visit(n, [])
    return order


def execute(cmds, dry_run, check=True):
    for c in cmds:
        print(shlex.join(c), flush=True)
        if not dry_run:
            rc = subprocess.run(c).returncode
            if rc != 0 and check:
                fail(f"exit {rc}: {shlex.join(c)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-f", "--file", default="compose.yml")
    ap.add_argument("-p", "--project-name")
    ap.add_argument("--engine", default="podman")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("command", choices=["build", "up", "down"])
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()

    path = os.path.abspath(a.file)
    with open(path, encoding="utf-8") as f:
        doc = interpolate(yaml.safe_load(f))
    base = os.path.dirname(path)
    services = doc.get("services") or {}
    project = a.project_name or os.environ.get("COMPOSE_PROJECT_NAME") or doc.get("name") \
        or os.path.basename(base)

    if a.command == "build":
        cmds = []
        for n in ordered(services):
            b = services[n].get("build")
            if b is None:
                continue
            b = {"context": b} if isinstance(b, str) else b
            ctx = os.path.normpath(os.path.join(base, b.get("context", ".")))
            dfile = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
            fmt = ["--format", "docker"] if a.engine == "podman" else []
            cmds.append([a.engine, "build"] + fmt + a.rest +
                        ["-f", dfile, "-t", services[n].get("image", f"{project}-{n}"), ctx])
        execute(cmds, a.dry_run)
    elif a.command == "up":
        sp = argparse.ArgumentParser(prog="compose-run.py up")
        sp.add_argument("--scale", action="append", default=[])
        sp.add_argument("services", nargs="*")
        u = sp.parse_args(a.rest)
        for n in u.services:
            if n not in services:
                fail(f"no service {n} in {a.file}")
        scale = {}
        for s in u.scale:
            n, _, k = s.partition("=")
            if n not in services or not k.isdigit():
                fail(f"--scale {s}: expected SERVICE=N for a service of {a.file}")
            scale[n] = int(k)
        cmds = []
        for n in ordered(services):
            if u.services and n not in u.services:
                continue
            for i in range(1, scale.get(n, 1) + 1):
                cmds.append(run_args(a.engine, project, base, n, services[n], i))
        execute(cmds, a.dry_run)
    else:
        sp = argparse.ArgumentParser(prog="compose-run.py down")
        sp.add_argument("-v", "--volumes", action="store_true")
        d = sp.parse_args(a.rest)
        cmds = []
        if not a.dry_run:
            out = subprocess.run([a.engine, "ps", "-a", "-q", "--filter",
                                  f"label=com.docker.compose.project={project}"],
                                 capture_output=True, text=True).stdout.split()
            if out:
                cmds.append([a.engine, "rm", "-f", "-t", "10"] + out)
        if d.volumes:
            for v in doc.get("volumes") or {}:
                cmds.append([a.engine, "volume", "rm", "-f", f"{project}_{v}"])
        execute(cmds, a.dry_run, check=False)


if __name__ == "__main__":
    main()
