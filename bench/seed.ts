import postgres from 'postgres';

/**
 * Seeds `total` changes straight in SQL (generate_series), `pending` of them pending and recent,
 * the rest decided and older, plus `deployments` production deployments spread over 30 days.
 */
export async function seedChanges(url: string, opts: { total: number; pending: number; deployments?: number; now: Date }): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const services = ['checkout', 'payments-api', 'checkout-db', 'infra', 'search-api'];
  const teams: Record<string, string> = { checkout: 'payments', 'payments-api': 'payments', 'checkout-db': 'platform', infra: 'platform', 'search-api': 'search' };
  const now = opts.now.toISOString();
  await sql.unsafe(`
    insert into changes (source, external_id, title, services, environment, team, author, author_slack_id, ai, ai_assisted,
      risk_level, risk_reasons, approvals_required, status, submitted_by, created_at, round_started_at, updated_at, decided_at, escalation_step)
    select 'bench', 'seed-' || g, 'Seeded change ' || g,
      array[(array[${services.map((s) => `'${s}'`).join(',')}])[1 + g % 5]],
      'production',
      (array[${services.map((s) => `'${teams[s]}'`).join(',')}])[1 + g % 5],
      '{"github":"jdoe","slack_id":"U0JUNIOR","level":"junior","bot":false}'::jsonb, 'U0JUNIOR',
      '{"assisted":true,"tool":null,"share":null,"reasons":["declared"]}'::jsonb, g % 3 = 0,
      (array['low','medium','high','critical'])[1 + g % 4]::risk_level, '[]'::jsonb, 1,
      case when g <= ${opts.pending} then 'pending'::change_status else 'approved'::change_status end,
      'bench',
      c.created_at, c.created_at,
      '${now}'::timestamptz,
      case when g <= ${opts.pending} then null else '${now}'::timestamptz end,
      0
    from generate_series(1, ${opts.total}) g,
      lateral (select case when g <= ${opts.pending} then '${now}'::timestamptz - make_interval(secs => g % 600) else '${now}'::timestamptz - make_interval(mins => 60 + g % 40000) end as created_at) c`);
  if (opts.deployments) {
    await sql.unsafe(`
      insert into deployments (change_id, service, environment, status, ungated, deployed_at, created_at)
      select 1 + (g * 7919) % ${opts.total}, (array[${services.map((s) => `'${s}'`).join(',')}])[1 + g % 5],
        case when g % 4 = 0 then 'staging' else 'production' end, 'succeeded', false,
        '${now}'::timestamptz - make_interval(mins => g % 43200), '${now}'::timestamptz
      from generate_series(1, ${opts.deployments}) g`);
  }
  await sql.unsafe('analyze');
  await sql.end();
}
