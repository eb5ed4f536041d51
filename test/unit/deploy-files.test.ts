import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';

/**
 * The deployment files cannot be exercised here (no Docker, no cluster), so they are read against
 * each other: every YAML parses, and the Deployment, Service, PDB, Secret and ConfigMap agree on
 * labels, ports, probes and keys; the Dockerfile builds in stages and runs as `node`.
 */

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const K8S = join(DEPLOY, 'k8s');

type Obj = Record<string, any>;

function loadManifests(): { file: string; doc: Obj }[] {
  const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: { file: string; doc: Obj }[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(K8S, file), 'utf8'), { uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const d of list) {
      const problems = [...d.errors, ...d.warnings].map((e) => e.message);
      if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
      const js = d.toJS() as Obj | null;
      if (js) out.push({ file, doc: js });
    }
  }
  return out;
}

const manifests = loadManifests();
const ofKind = (kind: string): Obj[] => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const one = (kind: string, name?: string): Obj => {
  const found = ofKind(kind).filter((d) => !name || d.metadata?.name === name);
  expect(found, `exactly one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0];
};
const matches = (selector: Obj, labels: Obj): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

const deployment = one('Deployment', 'countersign');
const podSpec: Obj = deployment.spec.template.spec;
const podLabels: Obj = deployment.spec.template.metadata.labels;
const container: Obj = podSpec.containers.find((c: Obj) => c.name === 'countersign');
const env = (c: Obj): Obj[] => c.env ?? [];
const envValue = (c: Obj, name: string): unknown => env(c).find((e) => e.name === name)?.value;

describe('deploy/k8s manifests', () => {
  it('every YAML file parses without errors and names its kind and apiVersion', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(7);
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
      expect(doc.metadata?.name, file).toBeTruthy();
    }
  });

  it('the Deployment runs 3 replicas, rolls with no unavailable pod, and selects its own pods', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(podSpec.terminationGracePeriodSeconds).toBe(30);
    expect(container.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '5']);
  });

  it('the container listens on 3000 and the probes hit /readyz and /healthz on it', () => {
    const http = container.ports.find((p: Obj) => p.containerPort === 3000);
    expect(http).toBeTruthy();
    expect(envValue(container, 'PORT')).toBe('3000');
    const port = (probe: Obj) => probe.httpGet.port;
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect([3000, http.name]).toContain(port(probe));
    }
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.readinessProbe).toMatchObject({ periodSeconds: 5, failureThreshold: 2 });
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.livenessProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 3 });
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
  });

  it('runs as non-root (numeric uid, since the image names the user) with a read-only root and a writable /tmp', () => {
    expect(podSpec.securityContext.runAsNonRoot).toBe(true);
    expect(podSpec.securityContext.runAsUser).toBe(1000);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const tmp = container.volumeMounts.find((m: Obj) => m.mountPath === '/tmp');
    expect(podSpec.volumes.find((v: Obj) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  });

  it('production settings: sandbox off, config from the countersign-config ConfigMap, no Socket Mode', () => {
    expect(envValue(container, 'COUNTERSIGN_SANDBOX')).toBe('off');
    const configPath = envValue(container, 'COUNTERSIGN_CONFIG') as string;
    expect(configPath).toBe('/etc/countersign/countersign.yml');
    const volume = podSpec.volumes.find((v: Obj) => v.configMap?.name === 'countersign-config');
    expect(volume).toBeTruthy();
    const mount = container.volumeMounts.find((m: Obj) => m.name === volume.name);
    const fileName = volume.configMap.items?.[0]?.path ?? 'countersign.yml';
    expect(`${mount.mountPath}/${fileName}`).toBe(configPath);
    expect(env(container).map((e) => e.name)).not.toContain('SLACK_APP_TOKEN');
  });

  it('every env entry has exactly one source, and each secret comes from the key of its own name', () => {
    const sources = Object.fromEntries(
      env(container).map((e) => [e.name, 'value' in e && 'valueFrom' in e ? 'both' : 'value' in e ? `value:${e.value}` : `secret:${e.valueFrom?.secretKeyRef?.key}`]),
    );
    expect(sources).toEqual({
      PORT: 'value:3000',
      HOST: 'value:0.0.0.0',
      NODE_ENV: 'value:production',
      LOG_LEVEL: 'value:info',
      COUNTERSIGN_SANDBOX: 'value:off',
      COUNTERSIGN_CONFIG: 'value:/etc/countersign/countersign.yml',
      DATABASE_URL: 'secret:DATABASE_URL',
      COUNTERSIGN_API_TOKENS: 'secret:COUNTERSIGN_API_TOKENS',
      SLACK_BOT_TOKEN: 'secret:SLACK_BOT_TOKEN',
      SLACK_SIGNING_SECRET: 'secret:SLACK_SIGNING_SECRET',
      GITHUB_WEBHOOK_SECRET: 'secret:GITHUB_WEBHOOK_SECRET',
      ...Object.fromEntries(env(container).filter((e) => !['PORT', 'HOST', 'NODE_ENV', 'LOG_LEVEL', 'COUNTERSIGN_SANDBOX', 'COUNTERSIGN_CONFIG', 'DATABASE_URL', 'COUNTERSIGN_API_TOKENS', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_WEBHOOK_SECRET'].includes(e.name)).map((e) => [e.name, 'unexpected'])),
    });
  });

  it('the Service selects the pods and maps port 80 to 3000', () => {
    const service = one('Service', 'countersign');
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    const http = container.ports.find((p: Obj) => p.containerPort === 3000);
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0].port).toBe(80);
    expect([3000, http.name]).toContain(service.spec.ports[0].targetPort);
  });

  it('the PodDisruptionBudget keeps 2 pods and selects the Deployment’s pods', () => {
    const pdb = one('PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('the example Secret has a key for every secretKeyRef of the Deployment and the migrate Job', () => {
    const secret = one('Secret', 'countersign-secrets');
    const keys = Object.keys(secret.stringData ?? secret.data ?? {});
    const job = one('Job');
    const refs = [...podSpec.containers, ...job.spec.template.spec.containers]
      .flatMap((c: Obj) => env(c))
      .map((e: Obj) => e.valueFrom?.secretKeyRef)
      .filter(Boolean) as Obj[];
    expect(refs.map((r) => r.key)).toEqual(expect.arrayContaining(['DATABASE_URL', 'COUNTERSIGN_API_TOKENS', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_WEBHOOK_SECRET']));
    for (const ref of refs) {
      expect(ref.name).toBe('countersign-secrets');
      expect(keys).toContain(ref.key);
    }
  });

  it('the example ConfigMap holds a countersign.yml the app accepts', () => {
    const configMap = one('ConfigMap', 'countersign-config');
    const doc = parseDocument(configMap.data['countersign.yml'], { uniqueKeys: true });
    expect(doc.errors).toEqual([]);
    expect(() => parseConfig(doc.toJS(), 'configmap.example.yaml')).not.toThrow();
  });

  it('the Ingress routes /slack/events, /api and /webhooks to the Service port, with TLS', () => {
    const ingress = one('Ingress');
    const service = one('Service', 'countersign');
    const paths = ingress.spec.rules.flatMap((r: Obj) => r.http.paths) as Obj[];
    expect(paths.map((p) => p.path).sort()).toEqual(['/api', '/slack/events', '/webhooks']);
    for (const p of paths) {
      expect(p.backend.service.name).toBe('countersign');
      const port = p.backend.service.port;
      expect(port.number === 80 || port.name === service.spec.ports[0].name).toBe(true);
    }
    expect(ingress.spec.tls?.[0]?.secretName).toBeTruthy();
  });

  it('the migrate Job runs the Deployment’s image in COUNTERSIGN_MIGRATE_ONLY mode, outside the Service', () => {
    const job = one('Job');
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe(container.image);
    expect(envValue(c, 'COUNTERSIGN_MIGRATE_ONLY')).toBe('1');
    expect(job.spec.template.spec.restartPolicy).toMatch(/^(Never|OnFailure)$/);
    expect(matches(one('Service', 'countersign').spec.selector, job.spec.template.metadata.labels)).toBe(false);
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(false);
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  // Instructions only: comments dropped, backslash continuations joined.
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const word = (l: string) => l.split(/\s+/)[0].toUpperCase();
  const instr = (name: string) => lines.map((l, i) => ({ l, i })).filter(({ l }) => word(l) === name);
  // Stages: the instructions after each FROM, by name (`FROM image AS name`); the last one is the runtime image.
  const stages = instr('FROM').map(({ l, i }, n, froms) => ({ name: /\sAS\s+(\S+)/i.exec(l)?.[1] ?? `#${n}`, lines: lines.slice(i + 1, froms[n + 1]?.i ?? lines.length) }));
  const stage = (name: string) => stages.find((s) => s.name === name)!;
  const runtime = stages.at(-1)!;
  const runs = (s: { lines: string[] }) => s.lines.filter((l) => word(l) === 'RUN');
  const copies = (s: { lines: string[] }) => s.lines.filter((l) => word(l) === 'COPY');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'));

  it('builds in three stages on node:20-bookworm-slim: build (all dependencies), deps (production only), runtime', () => {
    const froms = instr('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const { l } of froms) expect(l).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['build', 'deps']));
    expect(runs(stage('build')).some((l) => /\bnpm ci\b/.test(l) && !l.includes('--omit=dev'))).toBe(true);
    expect(runs(stage('build'))).toContain('RUN npm run build');
    expect(runs(stage('deps')).some((l) => l.includes('npm ci --omit=dev'))).toBe(true);
    // The package's `prepare` script is the build: it must not run before the sources are in the stage.
    for (const l of lines.filter((x) => word(x) === 'RUN' && /\bnpm ci\b/.test(x))) expect(l).toContain('--ignore-scripts');
  });

  it('the runtime image runs `node dist/main.js` as `node`, exposes 3000, and stops on SIGTERM', () => {
    const user = instr('USER');
    const cmd = instr('CMD');
    expect(cmd).toHaveLength(1);
    expect(runtime.lines).toContain(cmd[0].l);
    expect(user.map(({ l }) => l)).toContain('USER node');
    expect(user.at(-1)!.l).toBe('USER node');
    expect(user.at(-1)!.i).toBeLessThan(cmd[0].i);
    expect(instr('EXPOSE').map(({ l }) => l)).toContain('EXPOSE 3000');
    expect(JSON.parse(cmd[0].l.slice('CMD'.length).trim())).toEqual(['node', 'dist/main.js']);
    expect(lines).toContain('STOPSIGNAL SIGTERM');
    expect(instr('HEALTHCHECK').some(({ l }) => l.includes('/healthz'))).toBe(true);
  });

  it('the runtime image ships the build, production node_modules, drizzle/ and package.json, and no sources or tsx', () => {
    const copied = copies(runtime);
    expect(copied).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(copied).toContain('COPY --from=build /app/dist ./dist');
    expect(copied.some((l) => /^COPY drizzle\s+\.\/drizzle$/.test(l))).toBe(true);
    // package.json carries "type": "module" for dist/*.js; countersign.yml is the default config.
    expect(copied.some((l) => /^COPY (\S+\s+)*package\.json(\s+\S+)*\s+\.\/$/.test(l) && l.includes('countersign.yml'))).toBe(true);
    expect(copied.join('\n')).not.toMatch(/\bsrc\b|tsconfig|node_modules\/\.bin|--from=build \/app\/node_modules/);
    expect(runtime.lines.join('\n')).not.toMatch(/\btsx\b|typescript|esbuild/);
    expect(runs(runtime)).toEqual([]);
  });

  it('`npm ci --omit=dev` leaves out tsx, typescript and esbuild: dev dependencies only, in package.json and the lockfile', () => {
    for (const name of ['tsx', 'typescript', 'esbuild']) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
      expect(lock.packages[`node_modules/${name}`]?.dev, `${name} is dev-only in package-lock.json`).toBe(true);
    }
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
  });
});
