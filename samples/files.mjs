// A file server with an API beside it: /api/time answers from code, every
// other path is a file of this samples folder (with a listing of it at /).
// Run it:  node bin/httpserver.js run samples/files.mjs    then open http://127.0.0.1:8080/
// For a whole folder with no code at all: npx httpserver serve --list DIR
import { fileURLToPath } from 'node:url';
import { serveDirectory } from 'seattle-httpserver';

const files = serveDirectory({ root: fileURLToPath(new URL('.', import.meta.url)), list: true, index: false });

export default function site(request) {
  if (request.path === '/api/time') {
    return { statuscode: 200, headers: { 'Content-Type': 'application/json' }, message: JSON.stringify({ now: new Date().toISOString() }) };
  }
  // Delegating: serveDirectory answers (or throws 404) as if it were registered itself.
  return files(request);
}
