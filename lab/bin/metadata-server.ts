import { runMetadataServer } from '../metadata-server.js';

runMetadataServer(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`metadata-server: ${String(error)}\n`);
  process.exit(1);
});
