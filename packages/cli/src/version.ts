/**
 * The client's own version, printed by `deis --version` and sent in the User-Agent.
 * @module
 */
export const CLI_VERSION = 'v2.3.0';
