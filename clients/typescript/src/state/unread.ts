/**
 * Keeping `unread` exact between syncs. The gateway counts, for a user, the
 * messages after their read marker that are from someone else, not deleted
 * and not sent as `system`. The SDK takes the count from a chat summary (at
 * the summary's `seq`) and then adjusts it for every change it applies past
 * that point; when it cannot know (a read marker moved over messages it does
 * not hold), it asks the next `sync` for the count.
 */
import type { Message } from "../protocol/objects.ts";
import type { ChatView } from "./types.ts";

function countable(m: Message, me: string | undefined): boolean {
  return m.sender !== me && m.sender_kind !== "system";
}

/**
 * How `unread` changes when `m` (a message's new state) is applied over a
 * view whose count reflects the chat at seq `max(summarySeq, before)`,
 * `before` being the position the change is applied after.
 */
export function unreadDelta(view: ChatView, m: Message, before: number, me: string | undefined): number {
  const asOf = Math.max(view.summarySeq, before);
  if (m.updated_seq <= asOf || !countable(m, me) || m.seq <= view.chat.read_seq) return 0;
  // Counted before: it existed at `asOf`, and was not deleted then (a tombstone changes no more, so
  // a tombstone whose updated_seq is past `asOf` was deleted after it).
  const countedBefore = m.seq <= asOf ? 1 : 0;
  const countedAfter = m.deleted ? 0 : 1;
  return countedAfter - countedBefore;
}

/**
 * This user's read marker moved to `readSeq` (a `read` event with their own
 * id, or the reply to their `chat.read`): the new marker and count, or
 * `unreadKnown: false` when the messages it passed over are not all held.
 */
export function applyOwnRead(view: ChatView, readSeq: number, me: string | undefined): ChatView {
  const old = view.chat.read_seq;
  if (readSeq <= old) return view;
  const chat = { ...view.chat, read_seq: readSeq };
  if (!view.unreadKnown) return { ...view, chat };
  const asOf = Math.max(view.summarySeq, view.position);
  // Read past everything the count covers: nothing it counted is left.
  if (readSeq >= asOf) return { ...view, chat: { ...chat, unread: 0 } };
  const upTo = readSeq;
  // Every message in (old, upTo] must be held and known as of `asOf`.
  if (old + 1 < view.heldFrom || upTo > view.position) return { ...view, chat, unreadKnown: false };
  let passed = 0;
  for (const m of view.messages) {
    if (m.seq <= old) continue;
    if (m.seq > upTo) break;
    const liveAsOf = !m.deleted || m.updated_seq > asOf;
    if (countable(m, me) && liveAsOf) passed++;
  }
  return { ...view, chat: { ...chat, unread: Math.max(0, view.chat.unread - passed) } };
}
