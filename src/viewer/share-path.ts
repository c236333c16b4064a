// Where the viewer finds its share: the id in the page's path. The server serves the page at
// /s/<id> (ours) and /share/<id> (the form OpenCode's current servers hand out).

import { isShareId } from "../protocol/share-items.js";

/** The share id in a viewer path (`/s/<id>` or `/share/<id>`, a trailing slash allowed), or undefined. */
export function shareIdFromPath(pathname: string): string | undefined {
  const match = /^\/(?:s|share)\/([^/]+)\/?$/.exec(pathname);
  if (!match) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(match[1] as string);
  } catch {
    return undefined;
  }
  return isShareId(id) ? id : undefined;
}
