// Status codes and errors: what each kind of failure looks like to a client.
// Run it:  node bin/httpserver.js run samples/errors.mjs    then try /missing /teapot /old /boom
import { HttpError, redirect, text } from 'seattle-httpserver';

export default function errors(request) {
  switch (request.path) {
    case '/':
      return text('Try /missing, /teapot, /old, /new and /boom\n');
    case '/missing':
      // Throw an HttpError to answer with its status; its message is the body.
      throw new HttpError(404, 'There is nothing at /missing');
    case '/teapot':
      // Or return any status you like yourself.
      return text("I'm a teapot: I cannot brew coffee\n", 418);
    case '/old':
      // A 302 redirect: the browser goes on to /new by itself.
      return redirect('/new');
    case '/new':
      return text('Hello from /new\n');
    case '/boom':
      // A bug: any other error becomes a 500 with a generic body. The details
      // go to the server's error log (stderr), never to the client.
      throw new Error('something broke inside the callback');
    default:
      throw new HttpError(404, `There is nothing at ${request.path}`);
  }
}
