import { describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND } from '../helpers/stores.js';
import { execSql } from '../helpers/api-v2.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';

describe(`migration 24: a ValidationKey per form webhook endpoint (${TEST_STORE_KIND})`, () => {
  it('gives each existing form endpoint its own key and leaves JSON endpoints without one', async () => {
    const db = await createTestDb();
    try {
      // The database as the previous release left it: every migration before 24, three endpoints.
      const earlier = (db.kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).filter((m) => m.id < 24);
      await execSql(
        db,
        'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);' +
          earlier.map((m) => `${m.sql};\nINSERT INTO schema_migrations (id, name, applied_at) VALUES (${m.id}, 'm', 0);`).join('\n'),
      );
      const endpoint = (id: number, format: string) =>
        `(${id}, 30001, 'https://hooks.example.com/${id}', '[]', '${format}', 'S${id}', '[]', NULL, 1, NULL, NULL, 1, 1, 1)`;
      await execSql(
        db,
        `INSERT INTO accounts (id, name, status, created_at) VALUES (9, 'A', 'active', 1);
        INSERT INTO servers (id, account_id, name, status, sandbox, created_at) VALUES (30001, 9, 'S', 'active', 0, 1);
        INSERT INTO webhook_endpoints (id, server_id, url, event_types, format, secret_key, signing_secrets, secrets_rotated_at, enabled,
          disabled_reason, failing_since, created_at, updated_at, validated_at) VALUES ${[endpoint(1, 'form'), endpoint(2, 'form'), endpoint(3, 'json')].join(', ')};`,
      );
      const store = await db.open();
      try {
        const [a, b, json] = await Promise.all([1, 2, 3].map((id) => store.webhooks.getEndpoint(30001, id)));
        expect(a!.validationKey).toMatch(/^[0-9A-F]{20}$/);
        expect(b!.validationKey).toMatch(/^[0-9A-F]{20}$/);
        expect(a!.validationKey).not.toBe(b!.validationKey);
        expect(json!.validationKey).toBeNull();
        expect(a).toMatchObject({ format: 'form', secretKey: 'S1', enabled: true });
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });
});
