import { sql } from 'drizzle-orm';
import type { SimulationRow } from '../../domain/simulation.ts';
import type { ResolvedAuthor } from '../../domain/types.ts';
import type { Database } from '../client.ts';

const FIELD = '\u001f';
const ROW = '\u001e';

/**
 * The changes created in [from, to], with only what a policy simulation reads (no commits,
 * descriptions or stored reasons), in no particular order: one query. With `signers`, each row also
 * carries the distinct reviewers who signed it off.
 *
 * The rows come back as ONE text value (fields joined by U+001F, rows by U+001E; those two characters
 * become spaces in a title, and the other free text is JSON, which escapes them) and are parsed one
 * at a time as they are iterated: PGlite
 * answers one value of 100k rows in about 1 s but takes about 9 s for 100k rows of columns, and no
 * more than the text and one row are in memory at once (about 30 MB for 100k changes).
 */
export async function simulationRows(database: Database, from: Date, to: Date, opts: { signers: boolean }): Promise<Iterable<SimulationRow>> {
  const signers = opts.signers ? sql`, coalesce((select string_agg(distinct s.reviewer, ',') from sign_offs s where s.change_id = changes.id), '')` : sql``;
  const [result] = await database.rows<{ rows: string | null }>(sql`
    select string_agg(concat_ws(${FIELD}::text,
      id, translate(title, ${FIELD + ROW}, '  '), array_to_string(services, ','), environment, team, author,
      ai->>'assisted', coalesce(ai->>'share', ''),
      coalesce(diff->>'files_changed', ''), coalesce(diff->>'additions', ''), coalesce(diff->>'deletions', ''), coalesce(diff->'paths', '[]'::jsonb),
      coalesce(infra::text, ''), case when labels = '[]'::jsonb then '' else labels::text end,
      coalesce(assigned_to, ''), floor(extract(epoch from created_at) * 1000), coalesce(floor(extract(epoch from decided_at) * 1000)::text, '')
      ${signers}), ${ROW}::text) as rows
    from changes where created_at between ${from.toISOString()}::timestamptz and ${to.toISOString()}::timestamptz`);
  return result?.rows ? parseRows(result.rows) : [];
}

function* parseRows(text: string): Generator<SimulationRow> {
  // Authors repeat: each distinct one is parsed once and shared.
  const authors = new Map<string, ResolvedAuthor>();
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf(ROW, start);
    if (end < 0) end = text.length;
    const [id, title, services, environment, team, author, assisted, share, files, additions, deletions, paths, infra, labels, assignedTo, created, decided, signers] = text.slice(start, end).split(FIELD);
    start = end + 1;
    let a = authors.get(author);
    if (!a) authors.set(author, (a = JSON.parse(author) as ResolvedAuthor));
    yield {
      id: Number(id),
      title,
      services: services.split(','),
      environment,
      team,
      author: a,
      ai_assisted: assisted === 'true',
      ai_share: share === '' ? null : Number(share),
      diff: files === '' ? null : { files_changed: Number(files), additions: Number(additions), deletions: Number(deletions), paths: JSON.parse(paths) as string[] },
      infra: infra === '' ? null : JSON.parse(infra),
      labels: labels === '' ? [] : (JSON.parse(labels) as string[]),
      assigned_to: assignedTo || null,
      signers: signers ? signers.split(',') : [],
      created_at: new Date(Number(created)),
      decided_at: decided === '' ? null : new Date(Number(decided)),
    };
  }
}
