// "What did my browser send?": answers with the request dictionary itself.
// Run it:  node bin/httpserver.js run samples/echo.mjs    then open http://127.0.0.1:8080/?a=1&b
// or:      curl -d 'some body' 'http://127.0.0.1:8080/path?a=1'
import { html } from 'seattle-httpserver';
import { escapeHtml } from './escape-html.mjs';

export default async function echo(request) {
  const seen = {
    verb: request.verb,
    path: request.path,
    querystr: request.querystr,
    querydict: request.querydict,
    version: request.version,
    headers: request.headers,
    httpdid: request.httpdid,
    remoteipstr: request.remoteipstr,
    remoteportnum: request.remoteportnum,
    // The body is read only when asked for; here we want all of it, as text.
    body: await request.datastream.text(),
  };
  // The answer depends on Accept, so caches must keep the two versions apart.
  const vary = { Vary: 'Accept' };

  // A browser says it accepts text/html: give it a page. Anyone else gets JSON.
  if ((request.headers.accept ?? '').includes('text/html')) {
    return html(page(seen), 200, vary);
  }
  return {
    statuscode: 200,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...vary },
    message: `${JSON.stringify(seen, null, 2)}\n`, // indented, so that it reads well in a terminal
  };
}

// Everything the client sent is shown escaped: a header such as
// `X-Name: <script>...` must appear as text, never run as a script.
function page(seen) {
  const rows = Object.entries(seen).map(([name, value]) => {
    const shown = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    return `<tr><th>${escapeHtml(name)}</th><td><pre>${escapeHtml(shown)}</pre></td></tr>`;
  });
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>What your browser sent</title></head>
<body><h1>What your browser sent</h1>
<table>
${rows.join('\n')}
</table></body></html>
`;
}
