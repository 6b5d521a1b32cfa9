/** A chat's held messages: replace-by-seq, the window, the local echo. */
import type { Message } from "../protocol/objects.ts";
import type { ChatView } from "./types.ts";

/** The index of `seq` in messages sorted by seq, or `-(insertion point) - 1`. */
export function searchSeq(messages: readonly Message[], seq: number): number {
  let lo = 0, hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = messages[mid].seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export function findMessage(view: ChatView, seq: number): Message | undefined {
  const i = searchSeq(view.messages, seq);
  return i >= 0 ? view.messages[i] : undefined;
}

/**
 * Stores `m` under its seq unless the held one is newer (protocol README,
 * "Applying a chat event"). Messages below `heldFrom` are not held (the
 * window holds a contiguous run of seqs).
 */
export function upsertMessage(view: ChatView, m: Message): ChatView {
  const next = view;
  if (m.seq < next.heldFrom) return next;
  const i = searchSeq(next.messages, m.seq);
  if (i >= 0) {
    if (next.messages[i].updated_seq >= m.updated_seq) return next;
    const messages = next.messages.slice();
    messages[i] = m;
    return { ...next, messages };
  }
  const at = -i - 1;
  const messages = next.messages.slice();
  messages.splice(at, 0, m);
  return trimToWindow({ ...next, messages });
}

/** Drops the oldest messages beyond the window; `heldFrom` moves up past them. */
export function trimToWindow(view: ChatView): ChatView {
  const extra = view.messages.length - view.window;
  if (extra <= 0) return view;
  const dropped = view.messages[extra - 1];
  return { ...view, messages: view.messages.slice(extra), heldFrom: dropped.seq + 1, hasOlder: true };
}
