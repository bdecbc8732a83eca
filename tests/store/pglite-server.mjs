// A real PostgreSQL (PGlite: PostgreSQL compiled to WebAssembly) with the pgvector extension,
// served over the Postgres wire protocol on 127.0.0.1 for the store tests, since Debian 12 does
// not package pgvector. Usage: node tests/store/pglite-server.mjs PORT [DATADIR]
// Prints "ready <port>" on stdout once it accepts connections; stops on SIGTERM/SIGINT.
// PGlite serves one connection at a time, so clients use a pool of size 1 against it.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const port = Number(process.argv[2] || 5499);
const dataDir = process.argv[3];
const db = await PGlite.create(dataDir ? { dataDir, extensions: { vector, pg_trgm } } : { extensions: { vector, pg_trgm } });
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 1 });
await server.start();
process.stdout.write(`ready ${port}\n`);
const stop = async () => { try { await server.stop(); await db.close(); } finally { process.exit(0); } };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
