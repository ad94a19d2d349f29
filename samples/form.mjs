// An HTML form and the page that receives it.
// Run it:  node bin/httpserver.js run samples/form.mjs    then open http://127.0.0.1:8080/
// or:      curl -d 'name=Ada&message=hi' http://127.0.0.1:8080/
import { HttpError, html } from 'seattle-httpserver';
import { escapeHtml } from './escape-html.mjs';

const FORM_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Say something</title></head>
<body><h1>Say something</h1>
<form method="post" action="/">
  <p><label>Name <input name="name"></label></p>
  <p><label>Message <textarea name="message"></textarea></label></p>
  <p><button type="submit">Send</button></p>
</form></body></html>
`;

export default async function form(request) {
  if (request.path !== '/') throw new HttpError(404, `Nothing at ${request.path}`);

  // GET (and HEAD, which is GET without the body) shows the empty form.
  if (request.verb === 'GET' || request.verb === 'HEAD') return html(FORM_PAGE);

  if (request.verb === 'POST') {
    // A browser sends a form as `name=Ada&message=hi`, with this Content-Type.
    const type = request.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      throw new HttpError(415, 'Send the form as application/x-www-form-urlencoded');
    }
    const fields = await request.datastream.form();
    return html(thanksPage(fields));
  }

  // Any other method: 405, and the Allow header tells the client what works.
  throw new HttpError(405, `${request.verb} is not allowed here`, {
    headers: { Allow: 'GET, HEAD, POST' },
  });
}

function thanksPage(fields) {
  // What a user typed is escaped before it goes into the page: typing
  // `<script>` in the form must show those characters, not run a script.
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Thank you</title></head>
<body><h1>Thank you, ${escapeHtml(show(fields.name))}</h1>
<p>Your message:</p>
<blockquote>${escapeHtml(show(fields.message))}</blockquote>
<p><a href="/">Send another</a></p>
</body></html>
`;
}

// A field is usually a string, but may be missing, or a list when it is sent twice.
function show(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
