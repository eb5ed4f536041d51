import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, parseCommandArgs, UsageError, type Io } from './args.ts';
import { call, explain, serverFromEnv } from './client.ts';
import { readGitFacts } from './git.ts';
import { SUBMIT_HELP } from './help.ts';

const options = {
  title: { type: 'string' },
  service: { type: 'string', multiple: true },
  environment: { type: 'string' },
  'author-github': { type: 'string' },
  'author-email': { type: 'string' },
  'author-slack': { type: 'string' },
  plan: { type: 'string' },
  'ai-assisted': { type: 'boolean' },
  'ai-tool': { type: 'string' },
  label: { type: 'string', multiple: true },
  'from-git': { type: 'boolean' },
  base: { type: 'string' },
  source: { type: 'string' },
  'external-id': { type: 'string' },
  url: { type: 'string' },
  description: { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface Issue {
  path: string;
  message: string;
}

/** `countersign submit`: registers a change (POST /api/changes) and prints its key, status, risk and reasons. */
export async function submit(args: string[], io: Io): Promise<number> {
  const { values: v } = parseCommandArgs(args, options, false);
  if (v.help) {
    io.out(SUBMIT_HELP);
    return EXIT.ok;
  }
  if (v.base && !v['from-git']) throw new UsageError('--base only applies with --from-git', true);
  const server = serverFromEnv(io.env);

  const body: Record<string, unknown> = {
    source: v.source ?? 'ci',
    title: v.title,
    environment: v.environment,
    author: {
      ...(v['author-github'] && { github: v['author-github'] }),
      ...(v['author-email'] && { email: v['author-email'] }),
      ...(v['author-slack'] && { slack_id: v['author-slack'] }),
    },
  };
  const services = v.service ?? [];
  if (services.length === 1) body.service = services[0];
  else if (services.length > 1) body.services = services;
  if (v['ai-assisted']) body.ai_assisted = true;
  if (v['ai-tool']) body.ai_tool = v['ai-tool'];
  if (v.label?.length) body.labels = v.label;
  if (v.url) body.url = v.url;
  if (v.description) body.description = v.description;
  if (v.plan) body.terraform_plan = readPlan(resolve(io.cwd, v.plan));

  if (v['from-git']) {
    const git = await readGitFacts(io.cwd, v.base ?? 'origin/main');
    for (const w of git.warnings) io.err(`countersign: warning: ${w}\n`);
    body.head_sha = git.headSha;
    body.commits = git.commits;
    body.diff = git.diff;
    body.external_id = v['external-id'] ?? `${git.repoName}@${git.headSha}`;
  } else {
    body.external_id = v['external-id'] ?? `ci-${new Date().toISOString()}`;
  }

  const res = await call(server, 'POST', '/api/changes', body);
  if (res.status === 201 || res.status === 200) {
    const c = res.body as PresentedChange;
    if (v.json) io.out(`${JSON.stringify(c, null, 2)}\n`);
    else io.out(describe(c, res.status === 200, server.url));
    writeGithubOutput(io, c);
    return EXIT.ok;
  }
  if (res.status === 400 && Array.isArray(res.body?.issues)) {
    io.err(`countersign submit: the server refused the change (400):\n${(res.body.issues as Issue[]).map((i) => `  ${i.path}: ${i.message}\n`).join('')}`);
    return EXIT.usage;
  }
  if (res.status === 401) {
    io.err(`countersign submit: the server refused the token (401): check COUNTERSIGN_TOKEN\n`);
    return EXIT.usage;
  }
  io.err(`countersign submit: the server answered ${res.status}: ${explain(res)}\n`);
  return EXIT.usage;
}

function readPlan(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--plan ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--plan ${file}: not JSON (${(err as Error).message}); pass the output of \`terraform show -json PLAN\``);
  }
}

interface PresentedChange {
  key: string;
  status: string;
  title: string;
  source: string;
  external_id: string;
  head_sha: string | null;
  ai_assisted: boolean;
  ai_tool: string | null;
  ai_reasons: string[];
  risk: { level: string; reasons: { rule: string; text: string }[] };
  approvals_required: number;
}

function describe(c: PresentedChange, existing: boolean, url: string): string {
  const lines = [
    existing ? `${c.key} was already registered (source ${c.source}, external id ${c.external_id}): ${c.status}` : `${c.key} registered: ${c.status}`,
    `risk: ${c.risk.level}, ${c.approvals_required === 0 ? 'no sign-off needed' : `needs ${c.approvals_required} senior sign-off${c.approvals_required === 1 ? '' : 's'}`}`,
  ];
  if (c.risk.reasons.length === 0) lines.push('  (no risk rule matched)');
  for (const r of c.risk.reasons) lines.push(`  - ${r.text}`);
  lines.push(`AI-assisted: ${c.ai_assisted ? `yes${c.ai_tool ? ` (${c.ai_tool})` : ''}` : 'no'}`);
  for (const r of c.ai_reasons ?? []) lines.push(`  - ${r}`);
  lines.push(`gate: ${url}/api/changes/${c.key}/gate`);
  lines.push(`wait: countersign wait ${c.key}${c.head_sha ? ` --sha ${c.head_sha}` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** In GitHub Actions, `key`, `status` and `risk` become step outputs (`steps.<id>.outputs.key`). */
function writeGithubOutput(io: Io, c: PresentedChange): void {
  const file = io.env.GITHUB_OUTPUT;
  if (!file) return;
  try {
    appendFileSync(file, `key=${c.key}\nstatus=${c.status}\nrisk=${c.risk.level}\n`);
  } catch (err) {
    io.err(`countersign: warning: could not write GITHUB_OUTPUT (${(err as Error).message})\n`);
  }
}
