/**
 * `DEIS_CONTROLLER_URL` as the builder and the router read it: one controller's base URL, or several separated by
 * commas (controllers of one PostgreSQL store, ADR 0016), which they fail over between when one stops answering.
 * @module
 */

/** The base URLs of a `DEIS_CONTROLLER_URL`, in order; blanks around the commas are ignored. */
export function controllerUrls(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
