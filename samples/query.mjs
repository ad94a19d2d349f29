// Query strings: the part of the URL after `?`, parsed into request.querydict.
// Run it:  node bin/httpserver.js run samples/query.mjs
// then:    curl 'http://127.0.0.1:8080/hello?name=Ada'    curl 'http://127.0.0.1:8080/add?n=1&n=2&n=3.5'
import { HttpError, text } from 'seattle-httpserver';

export default function query(request) {
  const { querydict } = request;
  switch (request.path) {
    case '/':
      return text('Try /hello?name=Ada or /add?n=1&n=2&n=3\n');
    case '/hello': {
      // `?name=Ada` gives 'Ada', a bare `?name` gives null, no name at all undefined.
      const name = querydict.name;
      if (Array.isArray(name)) throw new HttpError(400, 'One name at a time, please');
      if (typeof name !== 'string' || name.trim() === '') {
        throw new HttpError(400, 'Whom should I greet? Add a name: /hello?name=Ada');
      }
      return text(`Hello, ${name}!\n`);
    }
    case '/add': {
      const numbers = listOf(querydict.n).map(toNumber);
      if (numbers.length === 0) {
        throw new HttpError(400, 'Nothing to add. Give numbers like this: /add?n=1&n=2&n=3');
      }
      const sum = numbers.reduce((total, n) => total + n, 0);
      return text(`${numbers.join(' + ')} = ${sum}\n`);
    }
    default:
      throw new HttpError(404, `There is nothing at ${request.path}. Try /hello or /add`);
  }
}

// A key sent once is a string; sent again and again (`n=1&n=2`), an array.
// Brackets (`n[x]=1`) or more than 20 repeats turn it into an object: refused.
function listOf(value) {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string' || value === null) return [value];
  throw new HttpError(400, 'Give the numbers as n=1&n=2 (at most 20 of them)');
}

// Every value in a query string is text: '3.5' must become 3.5, and 'abc' is an error.
function toNumber(value) {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(number)) throw new HttpError(400, `${JSON.stringify(value)} is not a number`);
  return number;
}
