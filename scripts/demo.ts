// `npm run demo`: plays a short scenario against a running Countersign (default http://localhost:3000),
// so you can watch it in the sandbox page: changes arrive, a senior approves one, another waits.
// Uses COUNTERSIGN_URL and COUNTERSIGN_TOKEN; in sandbox mode the token is read from the sandbox itself.

const base = (process.env.COUNTERSIGN_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

interface State {
  me: string;
  people: { id: string; name: string; level: string }[];
  channels: { id: string; name: string }[];
  messages: Record<string, { ts: string; blocks?: { type: string; block_id?: string; elements?: { action_id: string; value: string; text: { text: string } }[] }[] }[]>;
  api: { token: string };
  presets: { id: string; label: string; body: Record<string, unknown> }[];
}

async function json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function main() {
  let sandbox: State | null = null;
  try {
    const r = await json<State>('/sandbox/api/state');
    if (r.status === 200) sandbox = r.body;
  } catch (err) {
    say(`Cannot reach Countersign at ${base}: ${(err as Error).message}. Start it with npm start first.`);
    process.exit(4);
  }
  const token = process.env.COUNTERSIGN_TOKEN ?? sandbox?.api.token;
  if (!token) {
    say('Set COUNTERSIGN_TOKEN (the demo reads it from the sandbox only in sandbox mode).');
    process.exit(4);
  }
  const presets = sandbox?.presets ?? [];
  if (presets.length === 0) {
    say('The server is not in sandbox mode; the demo needs the sandbox presets.');
    process.exit(4);
  }
  const submit = async (p: State['presets'][number]) => {
    const r = await json<{ key: string; status: string; risk: { level: string }; team: string }>('/api/changes', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(p.body),
    });
    say(`→ ${p.label}: ${r.body.key} is ${r.body.risk.level} risk, ${r.body.status}`);
    return r.body;
  };

  say(`Countersign demo against ${base} (watch ${base}/)`);
  const first = await submit(presets[0]);
  await pause(1500);
  const second = await submit(presets[1]);
  await pause(1500);
  await submit(presets[2]);
  await pause(2000);

  // A senior of the owning team presses Approve on the first card, through the sandbox's Slack.
  const state = (await json<State>('/sandbox/api/state')).body;
  for (const [channel, messages] of Object.entries(state.messages)) {
    const card = messages.find((m) => JSON.stringify(m.blocks ?? []).includes(`"${first.key} · `));
    const actions = card?.blocks?.find((b) => b.type === 'actions');
    const approve = actions?.elements?.find((e) => e.text.text === 'Approve');
    if (!card || !actions || !approve) continue;
    const senior = state.people.find((p) => p.level === 'senior' && p.id !== state.me) ?? state.people.find((p) => p.level === 'senior');
    const seniorId = (await json<{ me: string }>(`/sandbox/api/state?user=${senior?.id ?? ''}`)).body.me;
    await json('/sandbox/api/action', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: seniorId, channel, message_ts: card.ts, action_id: approve.action_id, block_id: actions.block_id, value: approve.value }),
    });
    say(`→ ${senior?.name ?? seniorId} pressed Approve on ${first.key} in #${state.channels.find((c) => c.id === channel)?.name ?? channel}`);
  }
  await pause(1500);
  const gate = await json<{ status: string; allowed: boolean }>(`/api/changes/${first.key}/gate`, { headers: { authorization: `Bearer ${token}` } });
  say(`→ gate for ${first.key}: ${gate.status} (${gate.body.status})`);
  // The approved change is deployed, and then checkout breaks: the incident names it as a suspect.
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await json(`/api/changes/${first.key}/deployments`, { method: 'POST', headers: auth, body: JSON.stringify({ environment: 'production', deployed_at: new Date(Date.now() - 20 * 60_000).toISOString() }) });
  say(`→ ${first.key} was deployed to production 20 minutes ago`);
  await pause(1000);
  const service = (first as unknown as { service: string }).service;
  const incident = await json<{ key: string; suspects: { change: string; reasons: string[] }[] }>('/api/incidents', {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ title: `${service} returns 500s`, severity: 'sev2', services: [service], source: 'demo', external_id: `demo-${Date.now()}` }),
  });
  say(`→ ${incident.body.key} declared for ${service}; first suspect: ${incident.body.suspects[0]?.change ?? 'none'} (${incident.body.suspects[0]?.reasons.join('; ') ?? ''})`);
  say(`→ ${second.key} still waits for two sign-offs; try Approve and Reject on it yourself.`);
}

await main();
