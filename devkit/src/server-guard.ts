/**
 * `npm run test:unit` promises tests that need no server. It sets REACTOMETER_NO_SERVERS=1, and
 * every starter in this toolkit calls `assertServersAllowed` first, so a test that starts a server
 * fails loudly in the unit run instead of quietly making it slow.
 */
export function assertServersAllowed(what: string): void {
  if (process.env.REACTOMETER_NO_SERVERS === '1') {
    throw new Error(
      `${what}: this run is for unit tests (REACTOMETER_NO_SERVERS=1), which start no servers; ` +
        'name the test file *.integration.test.ts so that it runs in `npm run test:integration`',
    );
  }
}
