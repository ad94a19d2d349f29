// A response sent bit by bit: each line leaves as soon as it is ready.
// Run it:  node bin/httpserver.js run samples/stream.mjs    then:  curl -N http://127.0.0.1:8080/

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// An async generator: every `yield` is one piece of the body. Since the total
// length is not known in advance, the server uses chunked encoding.
async function* countdown() {
  for (let n = 3; n > 0; n -= 1) {
    yield `${n}...\n`;
    await sleep(150);
  }
  yield 'Lift off!\n';
}

export default function stream() {
  return {
    statuscode: 200,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    message: countdown(),
  };
}
