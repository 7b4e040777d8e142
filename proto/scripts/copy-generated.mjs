#!/usr/bin/env node
// tsc does not copy the generated .js/.d.ts pair; put it beside the compiled
// code so dist/ imports resolve the same way src/ does.
import { cpSync } from 'node:fs';

const pkg = new URL('..', import.meta.url).pathname;
cpSync(`${pkg}src/gen`, `${pkg}dist/gen`, { recursive: true });
