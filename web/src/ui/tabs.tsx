import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

export interface Tab {
  id: string;
  label: string;
  /** Rendered only while the tab is selected. */
  panel: () => ComponentChildren;
}

/**
 * A tablist in the WAI-ARIA pattern: one tab stop (the selected tab), Left/Right (and Home/End)
 * move between tabs and select them, the panel is labelled by its tab and can be focused.
 */
export function Tabs({ id, label, tabs }: { id: string; label: string; tabs: readonly Tab[] }) {
  const [selected, setSelected] = useState(tabs[0]?.id ?? '');
  const list = useRef<HTMLDivElement>(null);
  const current = tabs.find((t) => t.id === selected) ?? tabs[0];

  const select = (i: number) => {
    const t = tabs[(i + tabs.length) % tabs.length];
    if (!t) return;
    setSelected(t.id);
    list.current?.querySelector<HTMLElement>(`#${id}-tab-${t.id}`)?.focus();
  };
  const onKey = (e: KeyboardEvent) => {
    const at = tabs.findIndex((t) => t.id === current?.id);
    if (e.key === 'ArrowRight') select(at + 1);
    else if (e.key === 'ArrowLeft') select(at - 1);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(tabs.length - 1);
    else return;
    e.preventDefault();
  };

  return (
    <div class="tabs">
      <div role="tablist" aria-label={label} ref={list} onKeyDown={onKey} class="tablist">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`${id}-tab-${t.id}`}
            aria-selected={t.id === current?.id}
            aria-controls={`${id}-panel`}
            tabIndex={t.id === current?.id ? 0 : -1}
            onClick={() => setSelected(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {current && (
        <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${current.id}`} class="tabpanel">
          {current.panel()}
        </div>
      )}
    </div>
  );
}
