// The baseline for the intake benchmark: a thin node:http + postgres.js service doing one INSERT per request.
import { createServer } from 'node:http';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {} });
await sql`create table if not exists bench_thin (id bigserial primary key, body jsonb not null, created_at timestamptz not null default now())`;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const [row] = await sql`insert into bench_thin (body) values (${sql.json(body)}) returning id`;
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: row.id }));
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`{"url":"http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}"}\n`);
});
process.once('SIGTERM', async () => {
  server.close();
  await sql.end();
  process.exit(0);
});
