// Preloaded into the serverless child (`node --import`): if the launcher dies without stopping it
// (SIGKILL, a crashed test worker), the child is re-parented and stops itself, so no
// serverless-offline is left holding the ports. SIGINT is serverless-offline's graceful stop.
const parent = process.ppid;
let signalled = false;
setInterval(() => {
  if (signalled || process.ppid === parent) return;
  signalled = true;
  process.kill(process.pid, 'SIGINT');
  setTimeout(() => process.exit(1), 10_000).unref();
}, 500).unref();
