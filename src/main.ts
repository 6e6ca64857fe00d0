#!/usr/bin/env node
// Process entry point: the only place that exits; everything else returns an exit code.
import { main } from './cli/program.js';

process.exit(await main(process.argv.slice(2), process.env));
