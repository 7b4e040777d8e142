/** What every page gets: who is signed in, the live event stream, and navigation. */
import type { Me } from './api.js';
import type { EventStream } from './events.js';

export interface PageContext {
  me: Me;
  stream: EventStream;
  has(role: string): boolean;
  /** Route parameters after the page name (#/commands/ID → ['ID']). */
  params: string[];
}

/** A page draws itself into `main` and returns what undoes its subscriptions and timers. */
export type Page = (ctx: PageContext, main: HTMLElement) => () => void;
