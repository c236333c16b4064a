#!/usr/bin/env node
// The syncline binary and the only place that exits the process.

import { runCli } from "./run.js";

const exitCode = await runCli(process.argv.slice(2));
// Exit explicitly so a stray handle (a keep-alive timer, a half-closed socket) never keeps a
// finished command alive; stdout/stderr writes to pipes are flushed by node before exit.
process.exit(exitCode);
