/**
 * What the server and the request listener both need to know about one
 * connection: whether it is closing. Node still parses and dispatches
 * requests pipelined behind a response that closes the connection (or
 * behind bytes it could not parse); their callbacks must not run, since
 * their answers can never be sent.
 */
const closingConnections = new WeakSet<object>();

/** No request after the current one will be served on `socket`. */
export function markClosing(socket: object): void {
  closingConnections.add(socket);
}

export function isClosing(socket: object): boolean {
  return closingConnections.has(socket);
}
