import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as limits from '../../src/core/limits.js';

describe('docs/injection-api.md', () => {
  it('documents every injection limit with its current value', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/injection-api.md'), 'utf8');
    for (const [name, value] of Object.entries(limits)) {
      expect(doc, name).toMatch(new RegExp(`\\| \`${name}\` \\| ${value}\\b`));
    }
  });
});
