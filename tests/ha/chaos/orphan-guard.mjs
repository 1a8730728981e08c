// Preloaded (`node --import`) into every process the chaos test starts: when the test process is
// gone — even killed with SIGKILL, when no cleanup of its own runs — the child's parent changes,
// and the child exits rather than run on.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(70);
}, 500).unref();
