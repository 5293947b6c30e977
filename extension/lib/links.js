// Where a click on one of our browser notifications leads: notification id -> URL. It lives in
// chrome.storage.session because the worker that raised a notification may be gone by the time it is
// clicked. Kept bounded: a link is dropped when its notification is clicked or closed, and only the newest
// MAX_LINKS are kept, so a browser left open for weeks of flapping alerts does not grow it without end
// (notifications the browser closes without telling us, e.g. on a restart, would otherwise stay for ever).
//
// Stored as [[id, url], ...], oldest first: an array keeps its order through storage, an object need not
// (Chrome hands a stored object back with its keys sorted).

export const MAX_LINKS = 100;
export const STORAGE_KEY = "links";

function entries(links) {
  return Array.isArray(links) ? links.filter((e) => Array.isArray(e) && e.length === 2) : [];
}

/** `links` with id -> url added as the newest entry, and the oldest dropped beyond `max` (pure). */
export function remember(links, id, url, max = MAX_LINKS) {
  const kept = entries(links).filter(([k]) => k !== id);
  kept.push([id, url]);
  return kept.slice(Math.max(0, kept.length - max));
}

/** `links` without id (pure). */
export function forget(links, id) {
  return entries(links).filter(([k]) => k !== id);
}

/** The URL for a notification id, or null (pure). */
export function lookup(links, id) {
  return entries(links).find(([k]) => k === id)?.[1] ?? null;
}

/**
 * The link map in a chrome.storage area. Changes are serialised within the worker: a notification raised
 * while another is being clicked must not lose either change to a read-modify-write race.
 */
export class LinkStore {
  constructor(area, max = MAX_LINKS) {
    this.area = area;
    this.max = max;
    this.queue = Promise.resolve();
  }

  async all() {
    await this.queue;
    return entries((await this.area.get(STORAGE_KEY))[STORAGE_KEY]);
  }

  async get(id) {
    return lookup(await this.all(), id);
  }

  add(id, url) {
    return this.change((links) => remember(links, id, url, this.max));
  }

  remove(id) {
    return this.change((links) => forget(links, id));
  }

  change(edit) {
    const next = this.queue.then(async () => {
      const links = (await this.area.get(STORAGE_KEY))[STORAGE_KEY];
      const edited = edit(links);
      // Every closed notification asks to forget its link; most were never ours or are gone already.
      if (JSON.stringify(edited) !== JSON.stringify(links)) await this.area.set({ [STORAGE_KEY]: edited });
    });
    this.queue = next.catch(() => {});
    return next;
  }
}
