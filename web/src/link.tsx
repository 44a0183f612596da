import type { ComponentChildren, JSX } from 'preact';
import { isPlainClick, navigate } from './router.js';

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href' | 'onClick'> & { href: string; children: ComponentChildren };

/** An in-app link: a real <a href> (middle click, copy link and the keyboard work), routed without a page load. */
export function Link({ href, children, ...rest }: LinkProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (!isPlainClick(e)) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
