#!/usr/bin/env node
// Entry point of `npx postline` and `npm start`; the TypeScript build lives in dist/.
import '../dist/main.js';
