import { useEffect, useState } from 'preact/hooks';
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  previewHtmlUrl,
  previewTemplate,
  templateVersions,
  updateTemplate,
  type Template,
  type TemplateContent,
  type TemplatePreview,
} from '../api/servers.js';
import { describedBy, errorsFor, Field, FormError } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const CONTENT_FIELDS = ['name', 'subject', 'htmlBody', 'textBody'] as const;
const EMPTY: TemplateContent = { name: '', subject: null, htmlBody: null, textBody: null };

/** "" is "no such part" for the API (null), so a cleared body is removed rather than stored empty. */
const orNull = (s: string) => (s === '' ? null : s);

/** A server's stored templates: list, create, edit (each save is a new version), versions, delete (confirmed) and a preview with sample merge values. */
export function ServerTemplates({ serverId, canChange }: { serverId: number; canChange: boolean }) {
  const loaded = useLoad(() => listTemplates(serverId), [serverId]);
  const templates = loaded.data?.data ?? null;
  /** Which template the panel below the list is about: a new one, a stored one, or none. */
  const [open, setOpen] = useState<'new' | number | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const remove = async (id: number, name: string) => {
    setBusy(true);
    setRowError(null);
    try {
      await deleteTemplate(serverId, id);
      setConfirmDelete(null);
      if (open === id) setOpen(null);
      loaded.reload();
    } catch (err) {
      setRowError(`Could not delete ${name}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="templates-title">
      <h2 id="templates-title">Templates</h2>
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load the templates: {loaded.error}
        </p>
      )}
      {rowError !== null && (
        <p class="form-error" role="alert">
          {rowError}
        </p>
      )}
      {templates === null && loaded.error === null && <p aria-busy="true">Loading templates…</p>}
      {templates !== null && templates.length === 0 && <p class="muted">This server has no stored templates yet.</p>}
      {templates !== null && templates.length > 0 && (
        <div class="table-wrap">
          <table class="messages templates">
            <caption>Stored templates of server {serverId}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID (ApiTemplate)</th>
                <th scope="col">Subject</th>
                <th scope="col">Version</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((t) => (
                <tr key={t.templateId}>
                  <th scope="row" data-label="Name" class="wrap">
                    {t.name}
                  </th>
                  <td data-label="ID">{t.templateId}</td>
                  <td data-label="Subject" class="wrap">
                    {t.subject ?? <span class="muted">(none)</span>}
                  </td>
                  <td data-label="Version">{t.currentVersion}</td>
                  <td data-label="Updated">
                    <time dateTime={t.updatedOn}>{formatTime(t.updatedOn)}</time>
                  </td>
                  <td data-label="Actions">
                    {confirmDelete === t.templateId ? (
                      <fieldset class="confirm" aria-label={`Confirm delete ${t.name}`}>
                        <span>Delete it with every version? Messages naming it are refused from then on.</span>
                        <button type="button" class="small danger-solid" disabled={busy} onClick={() => remove(t.templateId, t.name)}>
                          Yes, delete {t.name}
                        </button>
                        <button type="button" class="secondary small" onClick={() => setConfirmDelete(null)}>
                          Cancel
                        </button>
                      </fieldset>
                    ) : (
                      <span class="row-actions">
                        <button
                          type="button"
                          class="secondary small"
                          aria-label={`${canChange ? 'Edit' : 'Preview'} ${t.name}`}
                          onClick={() => setOpen(t.templateId)}
                        >
                          {canChange ? 'Edit' : 'Preview'}
                        </button>
                        {canChange && (
                          <button type="button" class="secondary small danger" aria-label={`Delete ${t.name}`} onClick={() => setConfirmDelete(t.templateId)}>
                            Delete
                          </button>
                        )}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canChange && open !== 'new' && (
        <p>
          <button type="button" class="secondary" onClick={() => setOpen('new')}>
            New template
          </button>
        </p>
      )}
      {open !== null && (
        <TemplatePanel
          key={String(open)}
          serverId={serverId}
          templateId={open === 'new' ? null : open}
          canChange={canChange}
          onSaved={(id) => {
            setOpen(id);
            loaded.reload();
          }}
          onClose={() => setOpen(null)}
        />
      )}
    </section>
  );
}

function TemplatePanel({
  serverId,
  templateId,
  canChange,
  onSaved,
  onClose,
}: {
  serverId: number;
  templateId: number | null;
  canChange: boolean;
  onSaved: (id: number) => void;
  onClose: () => void;
}) {
  const loaded = useLoad(() => (templateId === null ? null : getTemplate(serverId, templateId)), [serverId, templateId]);
  const versions = useLoad(() => (templateId === null ? null : templateVersions(serverId, templateId)), [serverId, templateId, loaded.data?.currentVersion]);
  const [form, setForm] = useState<TemplateContent>(EMPTY);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  /** The version the preview renders (undefined: the current one). */
  const [version, setVersion] = useState<number | undefined>(undefined);
  const current = loaded.data;
  useEffect(() => {
    if (current) setForm({ name: current.name, subject: current.subject, htmlBody: current.htmlBody, textBody: current.textBody });
  }, [current]);
  const errors = errorsFor(failure, CONTENT_FIELDS);
  const title = templateId === null ? 'New template' : current ? `Template ${current.name}` : 'Template';

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    setSaved(null);
    try {
      const body = { name: form.name, subject: form.subject, htmlBody: form.htmlBody, textBody: form.textBody };
      let t: Template;
      if (templateId === null) {
        t = await createTemplate(serverId, body);
      } else {
        t = await updateTemplate(serverId, templateId, body);
        loaded.reload();
      }
      setVersion(undefined);
      setSaved(`Saved as version ${t.version}.`);
      onSaved(t.templateId);
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const text = (field: 'subject' | 'htmlBody' | 'textBody', label: string, hint: string, rows?: number) => {
    const id = `template-${field}`;
    const err = errors.field[field];
    const value = form[field] ?? '';
    const onInput = (e: Event) => setForm({ ...form, [field]: orNull((e.currentTarget as HTMLInputElement).value) });
    return (
      <Field id={id} label={label} hint={hint} error={err}>
        {rows === undefined ? (
          <input id={id} type="text" value={value} aria-invalid={err ? 'true' : undefined} aria-describedby={describedBy(id, err, hint)} onInput={onInput} />
        ) : (
          <textarea id={id} rows={rows} value={value} aria-invalid={err ? 'true' : undefined} aria-describedby={describedBy(id, err, hint)} onInput={onInput} />
        )}
      </Field>
    );
  };

  return (
    <section class="card template-panel" aria-labelledby="template-title">
      <div class="panel-head">
        <h3 id="template-title">{title}</h3>
        <button type="button" class="secondary small" onClick={onClose}>
          Close
        </button>
      </div>
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load the template: {loaded.error}
        </p>
      )}
      {templateId !== null && current === null && loaded.error === null && <p aria-busy="true">Loading the template…</p>}
      {canChange && (templateId === null || current !== null) && (
        <form onSubmit={submit} noValidate aria-label={templateId === null ? 'New template' : 'Edit template'}>
          <Field id="template-name" label="Template name" hint="A label, one line." error={errors.field.name}>
            <input
              id="template-name"
              type="text"
              value={form.name}
              autoComplete="off"
              aria-invalid={errors.field.name ? 'true' : undefined}
              aria-describedby={describedBy('template-name', errors.field.name, 'A label, one line.')}
              onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
            />
          </Field>
          {text('subject', 'Subject', 'Used when a message has no subject of its own. Placeholders: %%Field%%.')}
          {text('htmlBody', 'HTML body', 'HTML with %%Field%% placeholders. An HTML or a text body is required.', 8)}
          {text('textBody', 'Text body', 'Plain text with %%Field%% placeholders.', 6)}
          <FormError message={errors.form} />
          <button type="submit" disabled={busy}>
            {templateId === null ? 'Create template' : 'Save as new version'}
          </button>
          {saved !== null && (
            <p class="done" role="status">
              {saved}
            </p>
          )}
        </form>
      )}
      {templateId !== null && versions.data !== null && versions.data.data.length > 1 && (
        <div class="table-wrap">
          <table class="messages versions">
            <caption>Versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Saved</th>
                <th scope="col">Subject</th>
                <th scope="col">Preview</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.data.map((v) => (
                <tr key={v.version}>
                  <th scope="row" data-label="Version">
                    {v.version}
                    {v.version === v.currentVersion && <span class="badge">current</span>}
                  </th>
                  <td data-label="Saved">
                    <time dateTime={v.versionCreatedOn}>{formatTime(v.versionCreatedOn)}</time>
                  </td>
                  <td data-label="Subject" class="wrap">
                    {v.subject ?? <span class="muted">(none)</span>}
                  </td>
                  <td data-label="Preview">
                    <button
                      type="button"
                      class="secondary small"
                      aria-pressed={(version ?? v.currentVersion) === v.version}
                      onClick={() => setVersion(v.version === v.currentVersion ? undefined : v.version)}
                    >
                      Preview version {v.version}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {templateId !== null && current !== null && (
        <TemplatePreviewPanel key={`${current.currentVersion}-${version ?? 'current'}`} serverId={serverId} templateId={templateId} version={version} />
      )}
    </section>
  );
}

/**
 * The stored template merged with sample values the user types, one field per %%Field%%: the
 * subject and text as text, the HTML in an `<iframe sandbox>` loaded from the API's preview page
 * (its own sandbox CSP), never put into this document.
 */
function TemplatePreviewPanel({ serverId, templateId, version }: { serverId: number; templateId: number; version: number | undefined }) {
  const [values, setValues] = useState<Record<string, string>>({});
  /** The values the shown preview was rendered with (changes only when "Preview" is pressed). */
  const [applied, setApplied] = useState<Record<string, string>>({});
  const preview = useLoad(() => previewTemplate(serverId, templateId, applied, version), [serverId, templateId, version, JSON.stringify(applied)]);
  const [fields, setFields] = useState<string[] | null>(null);
  const p: TemplatePreview | null = preview.data;
  useEffect(() => {
    if (p !== null && fields === null) setFields(p.fields);
  }, [p]);

  const submit = (e: Event) => {
    e.preventDefault();
    // Fields left empty stay as placeholders, as a send without that merge field would.
    setApplied(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '')));
  };

  return (
    <section class="preview" aria-labelledby="preview-title">
      <h4 id="preview-title">Preview{version !== undefined ? ` of version ${version}` : ''}</h4>
      {fields !== null && fields.length > 0 && (
        <form onSubmit={submit} noValidate aria-label="Sample merge data">
          <p class="muted">Sample values for the template's placeholders:</p>
          <div class="merge-fields">
            {fields.map((f, i) => (
              <Field key={f} id={`merge-${i}`} label={f}>
                <input id={`merge-${i}`} type="text" value={values[f] ?? ''} onInput={(e) => setValues({ ...values, [f]: e.currentTarget.value })} />
              </Field>
            ))}
          </div>
          <button type="submit" class="secondary">
            Preview
          </button>
        </form>
      )}
      {fields !== null && fields.length === 0 && <p class="muted">This template has no %%Field%% placeholders.</p>}
      {preview.error !== null && (
        <p class="form-error" role="alert">
          Could not render the preview: {preview.error}
        </p>
      )}
      {preview.loading && p === null && <p aria-busy="true">Rendering…</p>}
      {p !== null && (
        <div class="rendered" aria-live="polite">
          <h5>Subject</h5>
          <p class="rendered-subject">{p.subject ?? <span class="muted">(none: the message's own subject is used)</span>}</p>
          <h5>Text</h5>
          {p.textBody === null ? <p class="muted">(no text body)</p> : <pre class="rendered-text">{p.textBody}</pre>}
          <h5>HTML</h5>
          {p.htmlBody === null ? (
            <p class="muted">(no HTML body)</p>
          ) : (
            <iframe class="rendered-html" sandbox="" title="HTML preview" src={previewHtmlUrl(serverId, templateId, applied, version)} />
          )}
        </div>
      )}
    </section>
  );
}
