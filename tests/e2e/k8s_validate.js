// k8s_validate.js - checks the Kubernetes manifests of a kustomization
// directory against the Kubernetes API's schemas, offline.
//
// Usage: node k8s_validate.js NODE_MODULES DIR
//
// NODE_MODULES holds kubernetes-models and yaml (scripts/bootstrap.sh puts
// them in .deps/test-node/node_modules). DIR holds kustomization.yaml; each
// file it lists as a resource, and no other .yaml file of DIR, is read as
// YAML 1.1 (what kubectl reads: 0440 is octal there) and each document in
// it is built as the model of its apiVersion and kind and validated with
// the model's validate(): a kind kubernetes-models does not know fails.
//
// validate() alone lets unknown fields through (the API's schemas do not
// forbid them, and the API server drops them with a warning), so a
// misspelled field would pass unseen. Hence a second pass: the model's
// validate function runs on a proxy of the object that records which
// fields it reads. The validators read every field their schema names and
// enumerate only the objects that are maps (labels, resources...), so a
// field of an object that was not enumerated and that the validator never
// read is not in the schema: it fails, named by its path.
//
// Then a few references that no schema sees: a Deployment's selector
// matches its pods' labels, a probe's named port and a Service's target
// port are ports of the container, a volume mount names a volume, a claim
// names a PersistentVolumeClaim of DIR.
//
// Prints on stdout, tab-separated, for the shell test: `ok FILE KIND NAME`
// per object, `args CONTAINER ARG...` per container, `user CONTAINER UID
// GID FSGROUP` (`-` where unset), `mount CONTAINER PATH SECRET MODE` per
// volume mount (SECRET and MODE, its files' octal mode, `-` for other
// volumes), `env CONTAINER NAME VALUE` per plain variable, `secret NAME`
// per Secret a pod mounts. Errors go to stderr; exit 1 when there was any.
'use strict';

const fs = require('fs');
const path = require('path');

const [modulesArg, dir] = process.argv.slice(2);
const modules = modulesArg && path.resolve(modulesArg);
if (!modules || !dir) {
    process.stderr.write('usage: node k8s_validate.js NODE_MODULES DIR\n');
    process.exit(2);
}
const YAML = require(path.join(modules, 'yaml'));

let errors = 0;
function error(where, msg) {
    errors++;
    process.stderr.write(`${where}: ${msg}\n`);
}
function out(...fields) {
    process.stdout.write(fields.join('\t') + '\n');
}

// The model class of apiVersion and kind, or null: kubernetes-models has a
// module per group and version (v1 is the core group's).
function modelOf(apiVersion, kind) {
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' ||
        !/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) ||
        !/^[A-Z][A-Za-z0-9]*$/.test(kind))
        return null;
    let mod;
    try {
        mod = require(path.join(modules, 'kubernetes-models', apiVersion));
    } catch (e) {
        return null;
    }
    const cls = mod[kind];
    if (typeof cls !== 'function' || cls.apiVersion !== apiVersion || cls.kind !== kind)
        return null;
    return cls;
}

// The paths of the fields of data that validate() never read in an object
// it did not enumerate: fields its schema does not have.
function unknownFields(Model, data) {
    const records = [];
    const proxies = new WeakMap();
    function wrap(obj, where) {
        if (obj === null || typeof obj !== 'object')
            return obj;
        if (proxies.has(obj))
            return proxies.get(obj);
        const rec = { obj, where, read: new Set(), listed: false };
        records.push(rec);
        const proxy = new Proxy(obj, {
            get(target, prop, receiver) {
                const value = Reflect.get(target, prop, receiver);
                if (typeof prop !== 'string')
                    return value;
                rec.read.add(prop);
                return Object.prototype.hasOwnProperty.call(target, prop)
                    ? wrap(value, `${where}/${prop}`) : value;
            },
            has(target, prop) {
                if (typeof prop === 'string')
                    rec.read.add(prop);
                return Reflect.has(target, prop);
            },
            ownKeys(target) {
                rec.listed = true;
                return Reflect.ownKeys(target);
            },
        });
        proxies.set(obj, proxy);
        return proxy;
    }
    const model = new Model(data);
    try {
        Model.prototype.validate.call(wrap(model, ''));
    } catch (e) {
        // reported by the plain validate()
    }
    const unknown = [];
    for (const rec of records) {
        if (rec.listed || Array.isArray(rec.obj))
            continue;
        for (const key of Object.keys(rec.obj))
            if (!rec.read.has(key))
                unknown.push(`${rec.where}/${key}`);
    }
    return unknown;
}

function containerPorts(c) {
    return new Set((c.ports || []).map((p) => p.name).filter(Boolean));
}

// References inside a pod template that no schema checks.
function checkPod(where, spec, claims) {
    const volumes = new Set((spec.volumes || []).map((v) => v.name));
    for (const v of spec.volumes || []) {
        if (v.secret)
            out('secret', v.secret.secretName);
        if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName))
            error(where, `volume ${v.name}: no PersistentVolumeClaim ` +
                  `${v.persistentVolumeClaim.claimName} here`);
    }
    const podSec = spec.securityContext || {};
    for (const c of spec.containers || []) {
        const ports = containerPorts(c);
        const sec = c.securityContext || {};
        const id = (v) => (v === undefined ? '-' : String(v));
        out('user', c.name, id(sec.runAsUser ?? podSec.runAsUser),
            id(sec.runAsGroup ?? podSec.runAsGroup), id(podSec.fsGroup));
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
            const get = c[probe] && c[probe].httpGet;
            if (get && typeof get.port === 'string' && !ports.has(get.port))
                error(where, `container ${c.name}: ${probe} port ${get.port} is not a port of it`);
        }
        for (const m of c.volumeMounts || []) {
            if (!volumes.has(m.name))
                error(where, `container ${c.name}: mount ${m.name} names no volume`);
            const v = (spec.volumes || []).find((v) => v.name === m.name);
            const secret = v && v.secret;
            out('mount', c.name, m.mountPath, secret ? secret.secretName : '-',
                secret ? (secret.defaultMode ?? 0o644).toString(8) : '-');
        }
        for (const e of c.env || [])
            if (typeof e.value === 'string')
                out('env', c.name, e.name, e.value);
        out('args', c.name, ...(c.command || []), ...(c.args || []));
    }
}

function checkReferences(objects) {
    const claims = new Set(objects.filter((o) => o.kind === 'PersistentVolumeClaim')
        .map((o) => o.metadata.name));
    const pods = [];
    for (const o of objects) {
        if (o.kind !== 'Deployment')
            continue;
        const where = `Deployment ${o.metadata.name}`;
        const labels = (o.spec.template.metadata || {}).labels || {};
        const match = (o.spec.selector || {}).matchLabels || {};
        for (const [k, v] of Object.entries(match))
            if (labels[k] !== v)
                error(where, `selector ${k}=${v} does not match the pods' labels`);
        checkPod(where, o.spec.template.spec, claims);
        pods.push({ labels, spec: o.spec.template.spec });
    }
    for (const o of objects) {
        if (o.kind !== 'Service')
            continue;
        const where = `Service ${o.metadata.name}`;
        const sel = o.spec.selector || {};
        const chosen = pods.filter((p) => Object.entries(sel).every(([k, v]) => p.labels[k] === v));
        if (chosen.length === 0) {
            error(where, 'its selector matches no pod of these manifests');
            continue;
        }
        for (const p of o.spec.ports || [])
            if (typeof p.targetPort === 'string' &&
                !chosen.every((pod) => pod.spec.containers.some((c) =>
                    containerPorts(c).has(p.targetPort))))
                error(where, `target port ${p.targetPort} is not a container port of its pods`);
    }
}

function main() {
    const kfile = path.join(dir, 'kustomization.yaml');
    let kust;
    try {
        kust = YAML.parse(fs.readFileSync(kfile, 'utf8'), { version: '1.1' });
    } catch (e) {
        error(kfile, e.message);
        return;
    }
    if (!kust || kust.apiVersion !== 'kustomize.config.k8s.io/v1beta1' ||
        kust.kind !== 'Kustomization' || !Array.isArray(kust.resources))
        error(kfile, 'not a Kustomization with a list of resources');
    const listed = (kust && kust.resources) || [];
    for (const f of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort())
        if (f !== 'kustomization.yaml' && !listed.includes(f))
            error(path.join(dir, f), 'not listed in kustomization.yaml');
    const objects = [];
    for (const f of listed) {
        const file = path.join(dir, f);
        let docs;
        try {
            docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { version: '1.1' });
        } catch (e) {
            error(file, e.message);
            continue;
        }
        for (const doc of docs) {
            if (doc.errors.length > 0) {
                error(file, doc.errors[0].message);
                continue;
            }
            const data = doc.toJS();
            if (data === null)
                continue;
            const Model = modelOf(data.apiVersion, data.kind);
            const name = ((data.metadata || {}).name) || '(no name)';
            const where = `${file}: ${data.kind} ${name}`;
            if (Model === null) {
                error(where, `unknown apiVersion/kind ${data.apiVersion}/${data.kind}`);
                continue;
            }
            let ok = true;
            try {
                new Model(data).validate();
            } catch (e) {
                error(where, e.message);
                ok = false;
            }
            for (const u of unknownFields(Model, data)) {
                error(where, `unknown field ${u}`);
                ok = false;
            }
            if (ok) {
                objects.push(data);
                out('ok', f, data.kind, name);
            }
        }
    }
    checkReferences(objects);
}

main();
process.exit(errors > 0 ? 1 : 0);
