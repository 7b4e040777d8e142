/**
 * The server-sent event stream of GET /v1/events, read with fetch() so the
 * token goes in the Authorization header (EventSource cannot send headers,
 * and a token in the URL would end up in logs and history). Reconnects
 * with back-off; after a reconnect the pages reload their lists, since
 * events are not replayed.
 */
import { authHeaders } from './api.js';

export type StreamEvent = { event: string; data: unknown };
type Listener = (e: StreamEvent) => void;

export class EventStream {
  readonly #listeners = new Set<Listener>();
  #ctl: AbortController | null = null;
  #state: 'connecting' | 'live' | 'down' = 'down';
  #onState: (s: 'connecting' | 'live' | 'down') => void;
  #stopped = false;

  constructor(onState: (s: 'connecting' | 'live' | 'down') => void) {
    this.#onState = onState;
  }

  get state(): string {
    return this.#state;
  }

  on(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #set(s: 'connecting' | 'live' | 'down'): void {
    this.#state = s;
    this.#onState(s);
  }

  start(): void {
    this.#stopped = false;
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#ctl?.abort();
  }

  async #run(): Promise<void> {
    let delay = 500;
    while (!this.#stopped) {
      this.#set('connecting');
      this.#ctl = new AbortController();
      try {
        const res = await fetch('/v1/events', { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: this.#ctl.signal, cache: 'no-store' });
        if (res.status === 401) {
          this.#set('down');
          this.#emit({ event: 'unauthenticated', data: null });
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length === 0) continue;
            if (event === 'hello') {
              delay = 500;
              this.#set('live');
            }
            this.#emit({ event, data: JSON.parse(data.join('\n')) as unknown });
          }
        }
      } catch {
        // Network error or aborted: reconnect below unless stopped.
      }
      if (this.#stopped) break;
      this.#set('down');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
    this.#set('down');
  }

  #emit(e: StreamEvent): void {
    for (const l of [...this.#listeners]) l(e);
  }
}
