#!/usr/bin/env node
// The `longshore` command: the Node.js version is checked before the CLI and its dependencies load.
import './requireNode.mjs';

await import('../dist/main.js');
