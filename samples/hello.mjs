// The smallest server: answer every request with a line of text.
// Run it:  node bin/httpserver.js run samples/hello.mjs    then open http://127.0.0.1:8080/any/path
// (in your own project, after npm install seattle-httpserver:  npx httpserver run hello.mjs)

export default function hello(request) {
  // A response is a plain object: a status, some headers and a message.
  return {
    statuscode: 200,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    message: `Hello! You asked for ${request.path}\n`,
  };
}
