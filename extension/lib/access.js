// The browser's permission to read the tray on 127.0.0.1. Chrome grants host_permissions with the install but
// lets the user withhold site access later; Firefox (MV3) treats them as the user's to give: since Firefox 127
// the install prompt grants them, but they can be withdrawn in about:addons -> Permissions, and with
// extensions.originControls.grantByDefault off (as before 127) an install starts without them. Without the
// permission the tray's endpoint answers like any other site without CORS: a fetch fails exactly as if the
// tray were down, so the extension asks the browser first instead of guessing from a failed fetch.

/** The one origin the extension reads (lib/settings.js baseUrl), any port. */
export const TRAY_ORIGINS = ["http://127.0.0.1/*"];

export const NO_ACCESS_LINE = "This browser has not allowed secondline to read the tray on 127.0.0.1.";

/** Whether the browser lets the extension read the tray. A browser without the permissions API has it. */
export async function hasAccess(permissions) {
  if (!permissions?.contains) return true;
  try {
    return await permissions.contains({ origins: TRAY_ORIGINS });
  } catch {
    return true;   // asked about an origin it does not know: nothing to ask the user for
  }
}

/**
 * Ask the user (the browser shows its own prompt). Must be called straight from a click handler: browsers
 * refuse a permission request that is not the direct answer to a user action.
 */
export function requestAccess(permissions) {
  return permissions.request({ origins: TRAY_ORIGINS });
}
