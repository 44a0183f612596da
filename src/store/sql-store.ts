import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';
import type { QueueRepository } from './queue.js';
import type { WebhookRepository } from './webhooks.js';
import { SqlRetentionRepository, type RetentionRepository } from './retention.js';
import { SqlReportRepository, type ReportRepository } from './reports.js';
import { SqlListSendRepository, type ListSendRepository } from './list-sends.js';
import { SqlMarketingRepository, type MarketingRepository } from './marketing.js';
import { SqlInboundRepository, type InboundRepository } from './inbound.js';
import { SqlEventRepository, type EventRepository } from './events.js';
import { SqlWorkerRepository, type WorkerRepository } from './workers.js';
import { SqlSettingsRepository, type SettingsRepository } from './settings.js';
import { SqlTenancyRepository, type TenancyRepository } from './tenancy.js';
import { SqlTemplateRepository, type TemplateRepository } from './templates.js';
import { SqlSuppressionRepository, type SuppressionRepository } from './suppressions.js';
import { SqlCustomDomainRepository, type CustomDomainRepository } from './custom-domains.js';
import { SqlSendingDomainRepository, type SendingDomainRepository } from './sending-domains.js';
import { SqlUsersRepository, type UsersRepository } from './users.js';
import { SqlAuditRepository, type AuditRepository } from './audit.js';
import { SqlContactImportRepository, type ContactImportRepository } from './contact-imports.js';
import { SqlRateSlotRepository, type RateSlotRepository } from './rate-slots.js';
import { SqlTlsReportRepository, type TlsReportRepository } from './tls-reports.js';

/** The areas whose SQL differs by dialect: each dialect's store makes its own. */
export interface DialectAreas {
  queue: QueueRepository;
  webhooks: WebhookRepository;
  retention?: RetentionRepository;
}

/**
 * The Store both dialects share: one repository per area, written once with Kysely (see
 * docs/architecture.md, Storage shape). Subclasses own the connection, migrations and the areas
 * whose SQL differs (claiming work, giving space back).
 */
export abstract class SqlStore implements Store {
  readonly tenancy: TenancyRepository;
  readonly settings: SettingsRepository;
  readonly queue: QueueRepository;
  readonly workers: WorkerRepository;
  readonly events: EventRepository;
  readonly webhooks: WebhookRepository;
  readonly suppressions: SuppressionRepository;
  readonly templates: TemplateRepository;
  readonly sendingDomains: SendingDomainRepository;
  readonly customDomains: CustomDomainRepository;
  readonly inbound: InboundRepository;
  readonly marketing: MarketingRepository;
  readonly listSends: ListSendRepository;
  readonly reports: ReportRepository;
  readonly retention: RetentionRepository;
  readonly users: UsersRepository;
  readonly audit: AuditRepository;
  readonly contactImports: ContactImportRepository;
  readonly rateSlots: RateSlotRepository;
  readonly tlsReports: TlsReportRepository;

  protected constructor(
    protected readonly db: Kysely<Database>,
    readonly kind: 'sqlite' | 'postgres',
    dialect: DialectAreas,
  ) {
    this.tenancy = new SqlTenancyRepository(db);
    this.settings = new SqlSettingsRepository(db);
    this.queue = dialect.queue;
    this.workers = new SqlWorkerRepository(db);
    this.events = new SqlEventRepository(db);
    this.webhooks = dialect.webhooks;
    this.suppressions = new SqlSuppressionRepository(db);
    this.templates = new SqlTemplateRepository(db);
    this.sendingDomains = new SqlSendingDomainRepository(db);
    this.customDomains = new SqlCustomDomainRepository(db);
    this.inbound = new SqlInboundRepository(db, kind);
    this.marketing = new SqlMarketingRepository(db);
    this.listSends = new SqlListSendRepository(db);
    this.reports = new SqlReportRepository(db, kind);
    this.retention = dialect.retention ?? new SqlRetentionRepository(db, kind);
    this.users = new SqlUsersRepository(db);
    this.audit = new SqlAuditRepository(db);
    this.contactImports = new SqlContactImportRepository(db);
    this.rateSlots = new SqlRateSlotRepository(db, kind);
    this.tlsReports = new SqlTlsReportRepository(db);
  }

  abstract migrate(): Promise<void>;

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
