// Headers and cookies: what a client says about itself, and what it remembers for us.
// Run it:  node bin/httpserver.js run samples/cookies.mjs    then open http://127.0.0.1:8080/ and reload
// or:      curl -i -c jar.txt -b jar.txt http://127.0.0.1:8080/    (twice: curl keeps cookies in jar.txt)
import { HttpError, text } from 'seattle-httpserver';

const GREETINGS = { en: 'Hello', fr: 'Bonjour', de: 'Hallo', es: 'Hola', it: 'Ciao' };
const ONE_YEAR = 365 * 24 * 60 * 60; // Max-Age counts seconds
const KEEP = `Path=/; Max-Age=${ONE_YEAR}; HttpOnly; SameSite=Lax`;

export default function cookies(request) {
  if (request.path === '/forget') {
    // A cookie is deleted by sending it again, already expired.
    return text('Forgotten. Open / again to start counting from 1.\n', 200, {
      'Set-Cookie': ['visits=; Path=/; Max-Age=0', 'first-visit=; Path=/; Max-Age=0'],
    });
  }
  if (request.path !== '/') throw new HttpError(404, `There is nothing at ${request.path}. Try / or /forget`);

  const cookieHeader = request.headers.cookie ?? '';
  const jar = parseCookies(cookieHeader);
  // A cookie comes back from the client: never trust it to be what we sent.
  const visits = /^\d{1,9}$/.test(jar.visits ?? '') ? Number(jar.visits) + 1 : 1;
  const firstVisit = jar['first-visit'] ?? new Date().toISOString();
  const language = preferredLanguage(request.headers['accept-language'] ?? '');

  return text(
    `${GREETINGS[language]}! This is visit number ${visits} (the first was at ${firstVisit}).\n` +
    `Cookie header: ${cookieHeader || '(none)'}\n` +
    `Parsed:        ${JSON.stringify(jar)}\n` +
    `Language:      ${language}, chosen from Accept-Language: ${request.headers['accept-language'] ?? '(none)'}\n` +
    `User-Agent:    ${request.headers['user-agent'] ?? '(none)'}\n`,
    200,
    {
      // Two cookies, so two Set-Cookie lines: an array gives one line per value.
      // encodeURIComponent keeps `;`, `,` and spaces out of a cookie's value.
      'Set-Cookie': [`visits=${visits}; ${KEEP}`, `first-visit=${encodeURIComponent(firstVisit)}; ${KEEP}`],
      // The page depends on these request headers and changes at every visit: no cache may reuse it.
      Vary: 'Cookie, Accept-Language',
      'Cache-Control': 'no-store',
    },
  );
}

// `Cookie: a=1; b=hello%20world` → { a: '1', b: 'hello world' }   (RFC 6265 §4.2, §5.4)
function parseCookies(header) {
  const jar = Object.create(null); // a cookie named `__proto__` is just a name here
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue; // not name=value: ignore it
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // Two cookies with one name: the browser sends the more specific one (longer Path) first.
    if (name !== '' && !(name in jar)) jar[name] = decode(value);
  }
  return jar;
}

function decode(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a stray `%` is not an escape: keep the text as it came
  }
}

// `Accept-Language: fr-CH, fr;q=0.9, en;q=0.8` → the client's favourite among ours ('fr').
function preferredLanguage(header) {
  const ranked = header
    .split(',')
    .map((part) => {
      const [range, ...parameters] = part.split(';').map((piece) => piece.trim());
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      return { language: range.toLowerCase().split('-')[0], weight: q === undefined ? 1 : Number(q.slice(2)) };
    })
    .filter(({ language, weight }) => weight > 0 && Object.hasOwn(GREETINGS, language)) // q=0 means "not this one"
    .sort((a, b) => b.weight - a.weight); // a stable sort: equal weights keep the client's order
  return ranked[0]?.language ?? 'en';
}
