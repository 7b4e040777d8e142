/** Sign-in with an API token (vms-agent tokens create PRINCIPAL); it is kept in this tab's sessionStorage only. */
import { ApiError } from '../api.js';
import { clear, h } from '../dom.js';

export function signInPage(submit: (token: string) => Promise<void>, main: HTMLElement): () => void {
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error', hidden: true });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help signin-error', size: 50 });
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const t = input.value.trim();
        error.hidden = true;
        submit(t).catch((err: unknown) => {
          error.hidden = false;
          error.textContent = err instanceof ApiError ? err.message : `cannot reach vms-agent: ${(err as Error).message}`;
          input.focus();
        });
      },
    },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'A token from "vms-agent tokens create PRINCIPAL". It stays in this browser tab (session storage) and is sent only in the Authorization header.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  clear(main, form);
  input.focus();
  return () => undefined;
}
