// Status codes: what each one tells the client, and how the five redirects differ.
// Run it:  node bin/httpserver.js run samples/status.mjs    then:  curl -i http://127.0.0.1:8080/found
// Follow redirects with -L, and see what becomes of a POST:  curl -iL -d hi http://127.0.0.1:8080/see-other
import { HttpError, redirect, text } from 'seattle-httpserver';

// Each of these redirects to /landing; the status says how (RFC 9110 §15.4).
const REDIRECTS = {
  '/moved': 301,     // Moved Permanently: use the new URL from now on (a POST may turn into a GET)
  '/found': 302,     // Found: go there, this time only (a POST may turn into a GET)
  '/see-other': 303, // See Other: GET the answer there (the usual reply to a form's POST)
  '/temporary': 307, // Temporary Redirect: send the same request there, same method, same body
  '/permanent': 308, // Permanent Redirect: like 301, but the method and the body are kept
};

// The things made by POST /things are only counted: /things/1 to /things/<created> exist.
let created = 0;

export default async function status(request) {
  if (Object.hasOwn(REDIRECTS, request.path)) return redirect('/landing', REDIRECTS[request.path]);

  const thing = /^\/things\/(\d+)$/.exec(request.path);
  if (thing && Number(thing[1]) >= 1 && Number(thing[1]) <= created) return text(`This is thing ${thing[1]}\n`);

  switch (request.path) {
    case '/':
      return text(`Try /landing /things /empty /nowhere ${Object.keys(REDIRECTS).join(' ')}\n`);
    case '/landing': {
      const body = await request.datastream.text();
      return text(`You landed on /landing with ${request.verb} and ${body === '' ? 'no body' : `the body "${body}"`}\n`);
    }
    case '/things':
      // This resource only creates. Any other method gets 405, and a 405 must say in Allow what works.
      if (request.verb !== 'POST') {
        throw new HttpError(405, `Use POST to create a thing, not ${request.verb}`, { headers: { Allow: 'POST' } });
      }
      created += 1;
      // 201 Created, and Location tells where the new thing lives.
      return text(`Created thing ${created}\n`, 201, { Location: `/things/${created}` });
    case '/empty':
      // 204 No Content: it worked, and there is no body at all.
      return { statuscode: 204 };
    default:
      throw new HttpError(404, `There is nothing at ${request.path}`);
  }
}
