#!/usr/bin/env node
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), { hardExit: (c) => process.exit(c) });
process.exitCode = code;
// Done: a handle left open (a PSP's keep-alive socket, a handler a shutdown gave up on) must not
// keep the process alive; it normally exits before this timer, which does not hold it either.
setTimeout(() => process.exit(code), 2_000).unref();
