/**
 * The few lines every sample shares: when a sample file is started with
 * `node samples/<name>.mjs`, serve its callback until Ctrl-C.
 * When a test imports the file instead, nothing is started here.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getAddress, registerCallback, stopCallback } from 'seattle-httpserver';

/**
 * Serves `callback` on HOST:PORT (default 127.0.0.1:8080) if the module at
 * `moduleUrl` (pass `import.meta.url`) is the file node was asked to run.
 */
export async function runIfMain(moduleUrl, callback) {
  if (!isMain(moduleUrl)) return;

  const host = process.env.HOST || '127.0.0.1';
  const port = Number(process.env.PORT || 8080);
  let id;
  try {
    id = await registerCallback([host, port], callback);
  } catch (error) {
    // A taken port or a typo in HOST: say so in one line rather than a stack trace.
    console.error(`Cannot start: ${error.message}`);
    process.exitCode = 1;
    return;
  }

  // With PORT=0 the system picks a free port: getAddress tells us which one.
  const address = getAddress(id);
  const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
  console.log(`Listening on http://${shownHost}:${address.port}/`);

  // Stopping the listener is all it takes to let node exit (with code 0).
  // The handlers go first, so that a second Ctrl-C ends the process at once.
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stopCallback(id).catch((error) => {
      console.error(`Cannot stop: ${error.message}`);
      process.exitCode = 1;
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function isMain(moduleUrl) {
  if (process.argv[1] === undefined) return false;
  try {
    // realpath on both sides: the file may have been started through a symlink.
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
